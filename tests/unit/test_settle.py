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
    ("found", "can_void", "final", "settled"),
    [
        ("succeeded", True, False, "succeeded"),  # a record: the answer
        ("declined", True, False, "declined"),
        ("unknown", True, False, "unknown"),  # in progress: ask again
        ("not_charged", True, False, "not_charged"),  # voided before
        ("not_found", True, False, "void_required"),  # committed first, voided next step
        ("not_found", False, False, "unknown"),  # cannot void: wait for a record
        ("not_found", False, True, "not_charged"),  # books that record every call
    ],
)
def test_asking_never_settles_not_found_by_itself(
    found: str, can_void: bool, final: bool, settled: str
) -> None:
    for kind in ("payment", "refund"):
        connector = Fake(found, "not_charged", can_void, final)
        if kind == "payment":
            result = asyncio.run(connector.settle_payment("pay_1", "pay_1"))
        else:
            result = asyncio.run(connector.settle_refund("re_1"))
        assert (result.status, connector.voids) == (settled, 0), kind


@pytest.mark.parametrize("void", ["not_charged", "declined", "succeeded", "unknown"])
def test_once_a_void_is_due_every_step_voids_and_never_asks(void: str) -> None:
    for kind in ("payment", "refund"):
        connector = Fake("succeeded", void, True)  # asking would say succeeded
        if kind == "payment":
            result = asyncio.run(connector.settle_payment("pay_1", "pay_1", void=True))
        else:
            result = asyncio.run(connector.settle_refund("re_1", void=True))
        assert (result.status, connector.voids) == (void, 1), kind
