"""What a payment processor must do for the gateway: charge and refund, idempotently.

A real provider implements `charge` and `refund` (each carrying an idempotency
key, so a retried call never moves money twice) and `tokenize_card` (so the card
number never reaches our database). `charge_many` and `refund_many` run calls
concurrently; a provider with a batch API may override them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["succeeded", "declined", "transient_error"]


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str
    payment_id: str
    amount: int
    currency: str
    method: str
    attempt: int
    vpa: str | None = None
    method_token: str | None = None
    bank: str | None = None
    wallet: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    attempt: int


@dataclass(frozen=True)
class ProcessorResult:
    """The answer to one call. `transient_error` means: try again later."""

    outcome: Outcome
    failure_code: str | None = None
    failure_message: str | None = None
    latency_ms: int = 0
    replayed: bool = False


class Processor(ABC):
    concurrency = 256

    @abstractmethod
    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        """Exchange card details for an opaque token; the number is not kept by the gateway."""

    @abstractmethod
    async def charge(self, request: ChargeRequest) -> ProcessorResult: ...

    @abstractmethod
    async def refund(self, request: RefundRequest) -> ProcessorResult: ...

    async def charge_many(self, requests: list[ChargeRequest]) -> list[ProcessorResult]:
        return await self._gather([self.charge(r) for r in requests])

    async def refund_many(self, requests: list[RefundRequest]) -> list[ProcessorResult]:
        return await self._gather([self.refund(r) for r in requests])

    async def _gather(self, calls: list) -> list[ProcessorResult]:  # type: ignore[type-arg]
        import asyncio  # lazy: only the batch handlers call processors; see db.py

        limit = asyncio.Semaphore(self.concurrency)

        async def bounded(call):  # type: ignore[no-untyped-def]
            async with limit:
                return await call

        return list(await asyncio.gather(*(bounded(c) for c in calls)))
