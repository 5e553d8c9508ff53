"""Helpers shared by the benchmarks: a merchant, bulk payments, an empty queue."""

from __future__ import annotations

import os
import time
import uuid

from chalicelib import db, settings
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.services import batch, merchants
from chalicelib.services import payments as payment_service


class Deadline:
    """A Lambda-like context with a real deadline."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.end - time.monotonic()) * 1000)


def new_merchant() -> merchants.CreatedMerchant:
    with db.transaction() as conn:
        return merchants.create_merchant(conn, "Benchmark merchant")


def accept_payments(merchant_id: str, count: int) -> list[str]:
    """Accept `count` payments through the service (enqueued on the stream)."""
    tag = uuid.uuid4().hex[:8]
    ids: list[str] = []
    for start in range(0, count, 1000):
        with db.unit_of_work() as uow:
            for i in range(start, min(count, start + 1000)):
                request = CreatePaymentRequest.model_validate(
                    {
                        "order_id": f"bench_{tag}_{i}",
                        "amount": 1000 + i,
                        "currency": "INR",
                        "method": "upi",
                    }
                )
                ids.append(payment_service.create_payment(uow, merchant_id, request).id)
    return ids


def drain_everything() -> None:
    """Process whatever earlier runs left, so each figure starts from an empty queue."""
    while True:
        result = batch.process_payments(Deadline(600))
        if not result["claimed"] and not result["swept"]:
            return


def set_env(**values: str) -> None:
    os.environ.update(values)
    settings.reset_settings()
