"""Helpers shared by the benchmarks: a merchant, bulk payments, an empty queue."""

from __future__ import annotations

import os
import time
import uuid

from chalicelib import db, settings
from chalicelib.handlers import process_payments as batch
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.services import merchants
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
    """Process whatever earlier runs left, then settle the database, so each figure
    starts from an empty queue and a quiet database."""
    while True:
        result = batch.process_payments(Deadline(600))
        if not result["claimed"] and not result["swept"]:
            break
    settle()


def set_env(**values: str) -> None:
    os.environ.update(values)
    settings.reset_settings()


BENCH_TABLES = (
    "webhook_delivery_attempts, webhook_deliveries, events, refunds, payment_operations,"
    " payment_history, idempotency_keys, payments, processor_sim.charges,"
    " processor_sim.refunds, processor_sim.operations, processor_sim.calls"
)


def reset_bench_database() -> bool:
    """Empty the benchmark's own database and Redis db, so runs start alike.

    Refuses unless the database's name says it is a benchmark database.
    """
    url = settings.database_url()
    if not url.rsplit("/", 1)[-1].split("?")[0].endswith("bench"):
        return False
    with db.connection() as conn:
        conn.execute(f"TRUNCATE {BENCH_TABLES}")
    from chalicelib.adapters.redis_client import get_redis

    get_redis().flushdb()
    return True


def settle() -> None:
    """Let Postgres finish the last figure's background work before the next one:
    flush dirty buffers and refresh the statistics of the busy tables."""
    with db.connection() as conn:
        conn.execute("CHECKPOINT")
        for table in (
            "payments",
            "payment_history",
            "events",
            "processor_sim.charges",
            "processor_sim.calls",
        ):
            conn.execute(f"VACUUM (ANALYZE) {table}")
