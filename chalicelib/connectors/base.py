"""What an acquirer connector must do for the gateway.

A connector is the adapter for one outside acquirer (docs/architecture.md, "Connectors"):
  authorize         — charge a payment;
  refund            — refund (part of) a captured payment;
  retrieve_payment  — status inquiry for an earlier authorize, by its idempotency key;
  retrieve_refund   — the same for a refund;
  tokenize_card     — exchange card details for a token; the gateway keeps no number;
  capture, void     — capture (all or part of) an authorization made with
                      `capture=False`, or release it (manual capture, issue 25);
  retrieve_capture, retrieve_void — their inquiries.
Every call carries an idempotency key, so a repeated call never moves money twice,
and a whole-call deadline (`deadline_s`): connect, send, wait and read together.

An attempt's outcome is one of:
  succeeded        — the acquirer moved the money;
  declined         — the acquirer refused; nothing moved, nothing will;
  transient_error  — the acquirer certainly did not act (connection refused before
                     anything was sent, or an explicit "not processed, retry");
  unknown          — the call timed out, was reset, or got a 5xx: the money may have
                     moved. Only an inquiry with the same key settles it.
Each connector maps its wire answers to these in exactly one place.

An inquiry answers `succeeded` or `declined` (the acquirer has a final record),
`not_charged` (the acquirer says the key is voided: nothing stands under it, nor ever
will), `not_found` (the acquirer holds no record of the key *yet*), or `unknown` (still
in progress, or the inquiry itself went unanswered: ask again later).

`not_found` settles nothing: the request may still be on its way to the acquirer, or
running there. Only a definitive answer settles an unknown attempt (`settle_payment`,
`settle_refund`): a charge or a decline found, an explicit "not processed", or a
confirmed void by key (`void_payment`, `void_refund`; Adyen's cancel by merchant
reference), after which the key never charges. A connector that cannot void
(`can_void` False) leaves its unknown attempts unknown, under the same key, until its
inquiries find a record; one whose books record every call before it answers
(`not_found_is_final`, the in-process simulator) may take `not_found` as final.
See docs/architecture.md, "At most one charge".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal

Outcome = Literal["succeeded", "declined", "transient_error", "unknown"]
InquiryStatus = Literal[
    "succeeded", "declined", "not_charged", "not_found", "void_required", "unknown"
]


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
    #: False: authorize only (a manual-capture payment); a capture or void follows
    capture: bool = True


@dataclass(frozen=True)
class OperationRequest:
    """A capture or a void of the authorization made under `charge_key`."""

    type: Literal["capture", "void"]
    #: the operation's own key (its id): a capture replayed under it never captures twice
    idempotency_key: str
    charge_key: str
    payment_id: str
    amount: int
    currency: str
    attempt: int


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    refund_id: str
    payment_id: str
    amount: int
    currency: str
    attempt: int
    #: the idempotency key of the charge being refunded (its payment's charge key)
    charge_key: str = ""


@dataclass(frozen=True)
class AttemptResult:
    """The answer to one authorize or refund call."""

    outcome: Outcome
    failure_code: str | None = None
    failure_message: str | None = None
    latency_ms: int = 0
    replayed: bool = False


@dataclass(frozen=True)
class InquiryResult:
    """The answer to one status inquiry."""

    status: InquiryStatus
    failure_code: str | None = None
    failure_message: str | None = None
    latency_ms: int = 0


# Kept for the code and tests written against the first interface.
ProcessorResult = AttemptResult


class Connector(ABC):
    """One acquirer. Subclasses implement the single calls; batches run them concurrently."""

    #: the name stored on payments and used in metrics (`simulator`, `acquirer`, ...)
    name: str = "connector"
    #: at most this many calls of one batch in flight at once
    concurrency: int = 256
    #: the whole-call deadline, in seconds
    deadline_s: float = 10.0
    #: each call answers on its own (a network acquirer): the drain then calls row by
    #: row and finishes rows as their answers come, not when a whole batch has answered
    answers_each_call: bool = False
    #: voids by key (`void_payment`, `void_refund`): an unknown attempt can be settled
    #: as not charged, and the payment may then move to another connector
    can_void: bool = False
    #: the connector records every call before it answers, so an inquiry's `not_found`
    #: after the call has returned is final (the in-process simulator only)
    not_found_is_final: bool = False

    @abstractmethod
    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        """Exchange card details for an opaque token; the number is not kept by the gateway."""

    @abstractmethod
    async def authorize(self, request: ChargeRequest) -> AttemptResult: ...

    @abstractmethod
    async def refund(self, request: RefundRequest) -> AttemptResult: ...

    @abstractmethod
    async def retrieve_payment(self, idempotency_key: str) -> InquiryResult: ...

    @abstractmethod
    async def retrieve_refund(self, idempotency_key: str) -> InquiryResult: ...

    async def void_payment(self, idempotency_key: str, payment_id: str) -> InquiryResult:
        """Void by key: `not_charged` (voided, or a charge reversed), `declined`, or
        `unknown` (the void went unanswered). Only where `can_void`."""
        raise NotImplementedError(f"{self.name} cannot void")

    # ------------------------------------------------------------ manual capture
    async def capture(self, request: OperationRequest) -> AttemptResult:
        """Capture `request.amount` of the authorization (at most once per authorization;
        never after a void or past its expiry: `declined`)."""
        raise NotImplementedError(f"{self.name} cannot capture")

    async def void(self, request: OperationRequest) -> AttemptResult:
        """Release the authorization (`succeeded`; `declined` once it is captured)."""
        raise NotImplementedError(f"{self.name} cannot void an authorization")

    async def retrieve_capture(self, idempotency_key: str) -> InquiryResult:
        """The capture made under this key: `succeeded`, `declined`, or `not_found`."""
        raise NotImplementedError(f"{self.name} cannot capture")

    async def retrieve_void(self, charge_key: str) -> InquiryResult:
        """Whether the authorization is voided (`succeeded`), captured (`declined`), or
        still standing (`not_found`)."""
        raise NotImplementedError(f"{self.name} cannot void an authorization")

    async def settle_operation(self, request: OperationRequest) -> AttemptResult:
        """A capture or void whose last call went unanswered (its row was re-claimed):
        ask first; a record found is the answer. With none, the same call again under the
        same key, at the same connector: the acquirer runs a key at most once and takes
        one capture per authorization, so this never captures twice, and no void is ever
        sent for a payment while its capture is open (one operation per payment)."""
        if request.type == "capture":
            found = await self.retrieve_capture(request.idempotency_key)
        else:
            found = await self.retrieve_void(request.charge_key)
        if found.status in ("succeeded", "declined"):
            return AttemptResult(
                found.status, found.failure_code, found.failure_message, found.latency_ms
            )
        if found.status != "not_found":
            return AttemptResult("unknown", "acquirer_unknown", "inquiry unanswered")
        call = self.capture if request.type == "capture" else self.void
        return await call(request)

    async def void_refund(self, idempotency_key: str) -> InquiryResult:
        """Void a refund by key: `not_charged` (it never refunds), or its final status."""
        raise NotImplementedError(f"{self.name} cannot void")

    async def settle_payment(
        self, idempotency_key: str, payment_id: str, void: bool = False
    ) -> InquiryResult:
        """One step of settling an unknown attempt: ask (or, once a void is due, void).

        Asking answers what the acquirer recorded; a `not_found` comes back as
        `void_required` where the connector can void: the caller commits that the void is
        due before it is ever sent, and every later step voids again (idempotent), so a
        void whose answer was lost is never overtaken by a later inquiry.
        """
        if void:
            return await self.void_payment(idempotency_key, payment_id)
        return self._settled(await self.retrieve_payment(idempotency_key))

    async def settle_refund(self, idempotency_key: str, void: bool = False) -> InquiryResult:
        """The same for a refund: its reservation is never released on `not_found` alone."""
        if void:
            return await self.void_refund(idempotency_key)
        return self._settled(await self.retrieve_refund(idempotency_key))

    def _settled(self, found: InquiryResult) -> InquiryResult:
        """An inquiry's answer: a record found is the answer; no record yet is final only
        where the books say so, else a void is due (or, with no void, it is unknown)."""
        if found.status != "not_found":
            return found
        if self.not_found_is_final:
            return InquiryResult("not_charged", latency_ms=found.latency_ms)
        if not self.can_void:
            return InquiryResult("unknown", "acquirer_unknown", "No record yet", found.latency_ms)
        return InquiryResult("void_required", latency_ms=found.latency_ms)

    # Batches: the calls of one batch overlap, at most `concurrency` at a time.
    async def authorize_many(self, requests: list[ChargeRequest]) -> list[AttemptResult]:
        return await self._gather([self.authorize(r) for r in requests])

    async def refund_many(self, requests: list[RefundRequest]) -> list[AttemptResult]:
        return await self._gather([self.refund(r) for r in requests])

    async def settle_payments(self, keys: list[tuple[str, str, bool]]) -> list[InquiryResult]:
        """`settle_payment` for each (key, payment id, void due), concurrently."""
        return await self._gather([self.settle_payment(k, p, v) for k, p, v in keys])

    async def settle_refunds(self, keys: list[tuple[str, bool]]) -> list[InquiryResult]:
        return await self._gather([self.settle_refund(k, v) for k, v in keys])

    async def aclose(self) -> None:  # noqa: B027 (optional hook, not abstract)
        """Release pooled connections (an HTTP connector's client); nothing by default."""

    async def _gather[T](self, calls: list[Awaitable[T]]) -> list[T]:
        import asyncio  # lazy: only the batch handlers call connectors

        limit = asyncio.Semaphore(self.concurrency)

        async def bounded(call: Awaitable[T]) -> T:
            async with limit:
                return await call

        return list(await asyncio.gather(*(bounded(c) for c in calls)))
