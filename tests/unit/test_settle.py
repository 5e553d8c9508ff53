"""`Connector.settle_payment` / `settle_refund`: an inquiry's `not_found` never settles an
unknown attempt by itself (issue 22)."""

from __future__ import annotations

import asyncio

import pytest

from chalicelib.connectors.base import (
    AttemptResult,
    ChargeRequest,
    Connector,
    InquiryResult,
    RefundRequest,
)


class Fake(Connector):
    def __init__(self, found: str, void: str, can_void: bool, final: bool = False) -> None:
        self.found, self.void, self.voids = found, void, 0
        self.can_void, self.not_found_is_final = can_void, final

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvc: str) -> str:
        raise NotImplementedError

    async def authorize(self, request: ChargeRequest) -> AttemptResult:
        raise NotImplementedError

    async def refund(self, request: RefundRequest) -> AttemptResult:
        raise NotImplementedError

    async def retrieve_payment(self, idempotency_key: str) -> InquiryResult:
        return InquiryResult(self.found)  # type: ignore[arg-type]

    async def retrieve_refund(self, idempotency_key: str) -> InquiryResult:
        return InquiryResult(self.found)  # type: ignore[arg-type]

    async def void_payment(self, idempotency_key: str, payment_id: str) -> InquiryResult:
        self.voids += 1
        return InquiryResult(self.void)  # type: ignore[arg-type]

    async def void_refund(self, idempotency_key: str) -> InquiryResult:
        self.voids += 1
        return InquiryResult(self.void)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("found", "void", "can_void", "final", "settled", "voids"),
    [
        ("succeeded", "not_charged", True, False, "succeeded", 0),  # a record: no void
        ("declined", "not_charged", True, False, "declined", 0),
        ("unknown", "not_charged", True, False, "unknown", 0),  # in progress: ask again
        ("not_charged", "unknown", True, False, "not_charged", 0),  # voided before
        ("not_found", "not_charged", True, False, "not_charged", 1),  # voided now
        ("not_found", "declined", True, False, "declined", 1),
        ("not_found", "unknown", True, False, "unknown", 1),  # the void went unanswered
        ("not_found", "not_charged", False, False, "unknown", 0),  # cannot void: wait
        ("not_found", "unknown", False, True, "not_charged", 0),  # books say it is final
    ],
)
def test_not_found_settles_only_through_a_void(
    found: str, void: str, can_void: bool, final: bool, settled: str, voids: int
) -> None:
    for settle in ("payment", "refund"):
        connector = Fake(found, void, can_void, final)
        if settle == "payment":
            result = asyncio.run(connector.settle_payment("pay_1", "pay_1"))
        else:
            result = asyncio.run(connector.settle_refund("re_1"))
        assert (result.status, connector.voids) == (settled, voids), settle
