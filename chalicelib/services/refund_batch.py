"""Refunds in the batch processor: the refunds stream, drained after the payments.

The same loop as payments (`services.stream_drain`); what is refund-specific:
  lock    — `FOR UPDATE SKIP LOCKED` and CAS PENDING → PROCESSING, committed;
  execute — `processor.refund_many`, each call keyed by the refund id;
  finish  — refund results, the payments' refund totals and events in one transaction.
A crash between the processor call and the commit is safe: the entry comes back
after the visibility timeout and the processor replays the refund it already made.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

from chalicelib import db, faults
from chalicelib.clock import utcnow
from chalicelib.connectors import get_connector as get_processor
from chalicelib.connectors.base import ProcessorResult, RefundRequest
from chalicelib.queue import keys
from chalicelib.repository import refund_batches
from chalicelib.services import events
from chalicelib.services.refunds import refund_from_row
from chalicelib.services.stream_drain import WorkKind, count, finish_status

log = logging.getLogger(__name__)

EVENT_TYPES = {"SUCCESS": "refund.succeeded", "FAILED": "refund.failed"}


def execute_refunds(claimed: list[dict[str, Any]], summary: Counter[str]) -> None:
    """Refund the claimed refunds concurrently, then write every result at once."""
    results = asyncio.run(get_processor().refund_many([_refund_request(r) for r in claimed]))
    faults.crash_point(faults.REFUND_AFTER_CALL)
    _finish(claimed, results, summary)


def _refund_request(row: dict[str, Any]) -> RefundRequest:
    return RefundRequest(
        idempotency_key=row["id"],
        refund_id=row["id"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        attempt=row["attempts"],
    )


def _finish(
    claimed: list[dict[str, Any]], results: list[ProcessorResult], summary: Counter[str]
) -> None:
    now = utcnow()
    columns: dict[str, list[Any]] = {
        "ids": [],
        "claimed_ats": [],
        "statuses": [],
        "attempts": [],
        "codes": [],
        "next_attempt_ats": [],
    }
    for row, result in zip(claimed, results, strict=True):
        status, next_at, exhausted = finish_status(result.outcome, row["attempts"], now)
        code = None
        if exhausted:
            code = "processor_unavailable"
        elif status == "FAILED":
            code = result.failure_code
        columns["ids"].append(row["id"])
        columns["claimed_ats"].append(row["claimed_at"])
        columns["statuses"].append(status)
        columns["attempts"].append(row["attempts"])
        columns["codes"].append(code)
        columns["next_attempt_ats"].append(next_at)
    with db.transaction() as conn:
        finished = refund_batches.finish(conn, columns, now)
        outbox = [
            (row["merchant_id"], EVENT_TYPES[row["status"]], refund_from_row(row))
            for row in finished
            if row["status"] in EVENT_TYPES
        ]
        events.record_payment_events(conn, outbox)
    count(summary, "refunds_", [row["status"] for row in finished])


REFUNDS = WorkKind(
    name="refunds",
    stream=keys.REFUNDS_STREAM,
    counter_prefix="refunds_",
    sweep=refund_batches.sweep,
    claim=refund_batches.claim,
    park=refund_batches.park,
    unpark=refund_batches.unpark,
    execute=execute_refunds,
)
