"""Payments and refunds made through the services (no HTTP), for integration tests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import db
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.models.refunds import CreateRefundRequest
from chalicelib.services import payments, refunds


def accept_payments(merchant_id: str, count: int) -> list[str]:
    """Accept `count` UPI payments through the service (committed PENDING and added to
    the stream), in transactions of up to 1,000; returns their ids in order."""
    tag = uuid.uuid4().hex[:8]
    ids: list[str] = []
    for start in range(0, count, 1000):
        with db.unit_of_work() as uow:
            for i in range(start, min(count, start + 1000)):
                request = CreatePaymentRequest(
                    order_id=f"accept_{tag}_{i}", amount=1000 + i, currency="INR", method="upi"
                )
                ids.append(payments.create_payment(uow, merchant_id, request).id)
    return ids


def successful_payment_id(
    merchant_id: str, run_processor: Callable[..., dict[str, Any]], amount: int = 10_000
) -> str:
    request = CreatePaymentRequest(
        order_id=f"order_{uuid.uuid4().hex[:16]}", amount=amount, currency="INR", method="upi"
    )
    with db.unit_of_work() as uow:
        payment = payments.create_payment(uow, merchant_id, request)
    run_processor()
    with db.unit_of_work(write=False) as uow:
        assert payments.get_payment(uow.conn, merchant_id, payment.id).status == "SUCCESS"
    return payment.id


def create_refund(merchant_id: str, payment_id: str, amount: int | None = None) -> str:
    with db.unit_of_work() as uow:
        refund = refunds.create_refund(
            uow, merchant_id, payment_id, CreateRefundRequest(amount=amount)
        )
    return refund.id
