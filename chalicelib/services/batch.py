"""The batch processor: bring every accepted payment (and refund) to one final state.

One scheduled run (`process_payments`) drains the payments stream, then the
refunds stream, with the loop of `services.stream_drain` (DESIGN.md's
reliability model). For payments:
  lock    — `FOR UPDATE SKIP LOCKED` and CAS PENDING → PROCESSING, committed;
  execute — the processor calls of a batch run concurrently, keyed by payment id;
  finish  — all results, history and events in one transaction, then XACK.
A crash anywhere leaves a state the next run completes: un-acked entries come back
after the visibility timeout, and the processor replays a charge it already made.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter
from typing import Any

from chalicelib import db, faults, metrics, settings
from chalicelib.clock import utcnow
from chalicelib.connectors import get_connector as get_processor
from chalicelib.connectors.base import ChargeRequest, ProcessorResult
from chalicelib.deadline import RunClock
from chalicelib.queue import keys, stream
from chalicelib.repository import payment_batches
from chalicelib.services import events, refund_batch
from chalicelib.services.payments import payment_from_row
from chalicelib.services.stream_drain import (
    INFRASTRUCTURE_ERRORS,
    WorkKind,
    count,
    drain,
    finish_status,
)

log = logging.getLogger(__name__)

EVENT_TYPES = {"SUCCESS": "payment.succeeded", "FAILED": "payment.failed"}


def process_payments(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns its summary (also emitted as one EMF log line)."""
    cfg = settings.get_settings()
    started = time.perf_counter()
    summary: Counter[str] = Counter()
    clock = RunClock(context, cfg.time_budget_margin_ms)
    consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    error = None
    queue_lag_s = 0.0
    try:
        with db.connection() as conn:
            queue_lag_s = payment_batches.oldest_due_age_s(conn, utcnow())
        drain(PAYMENTS, consumer, clock, summary)
        drain(refund_batch.REFUNDS, consumer, clock, summary)
    except INFRASTRUCTURE_ERRORS as exc:
        # Nothing un-committed was acknowledged; the next run completes the work.
        error = f"{type(exc).__name__}: dependency unavailable"
        log.warning("process_payments stopped early", extra={"error": error})
    result: dict[str, Any] = {
        "handler": "process_payments",
        **{
            k: summary[k]
            for k in ("claimed", "succeeded", "failed", "retried", "dead_lettered", "swept")
        },
        **{k: v for k, v in summary.items() if k.startswith("refunds_")},
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        result["error"] = error
    emit_summary(result, queue_lag_s, cfg.stage)
    return result


def emit_summary(result: dict[str, Any], queue_lag_s: float, stage: str) -> None:
    """The run's one summary line, in CloudWatch embedded metric format."""
    metrics.emit(
        {"Handler": "process_payments", "Stage": stage},
        {
            "Claimed": (result["claimed"], "Count"),
            "Succeeded": (result["succeeded"], "Count"),
            "Failed": (result["failed"], "Count"),
            "Retried": (result["retried"], "Count"),
            "DeadLettered": (result["dead_lettered"], "Count"),
            "Swept": (result["swept"], "Count"),
            "RefundsSucceeded": (result.get("refunds_succeeded", 0), "Count"),
            "RefundsFailed": (result.get("refunds_failed", 0), "Count"),
            "BatchDuration": (result["duration_ms"], "Milliseconds"),
            "QueueLag": (round(queue_lag_s, 3), "Seconds"),
        },
        {
            "message": "process_payments summary",
            "level": "error" if "error" in result else "info",
            **({"error": result["error"]} if "error" in result else {}),
        },
    )


def execute_payments(claimed: list[dict[str, Any]], summary: Counter[str]) -> None:
    """Charge the claimed payments concurrently, then write every result at once."""
    requests = [_charge_request(r) for r in claimed]
    results = asyncio.run(get_processor().authorize_many(requests))
    faults.crash_point(faults.AFTER_CHARGE)
    _finish(claimed, results, summary)
    faults.crash_point(faults.AFTER_COMMIT)


def _charge_request(row: dict[str, Any]) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=row["id"],
        payment_id=row["id"],
        amount=row["amount"],
        currency=row["currency"],
        method=row["method"],
        attempt=row["attempts"],
        vpa=row["vpa"],
        method_token=row["method_token"],
        bank=row["bank"],
        wallet=row["wallet"],
    )


def _finish(
    claimed: list[dict[str, Any]], results: list[ProcessorResult], summary: Counter[str]
) -> None:
    now = utcnow()
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "ids",
            "claimed_ats",
            "statuses",
            "attempts",
            "outcomes",
            "codes",
            "messages",
            "next_attempt_ats",
            "latencies",
            "attempt_codes",
        )
    }
    for row, result in zip(claimed, results, strict=True):
        attempt = row["attempts"]
        status, next_at, exhausted = finish_status(result.outcome, attempt, now)
        code, message = result.failure_code, result.failure_message
        if exhausted:
            code = "processor_unavailable"
            message = f"The processor was unavailable on all {attempt} attempts"
        elif status != "FAILED":
            code = message = None
        columns["ids"].append(row["id"])
        columns["claimed_ats"].append(row["claimed_at"])
        columns["statuses"].append(status)
        columns["attempts"].append(attempt)
        columns["outcomes"].append(result.outcome)
        columns["codes"].append(code)
        columns["messages"].append(message)
        columns["next_attempt_ats"].append(next_at)
        columns["latencies"].append(result.latency_ms)
        columns["attempt_codes"].append(result.failure_code)
    with db.transaction() as conn:
        finished = payment_batches.finish(conn, columns, now)
        outbox = [
            (row["merchant_id"], EVENT_TYPES[row["status"]], payment_from_row(row))
            for row in finished
            if row["status"] in EVENT_TYPES
        ]
        events.record_payment_events(conn, outbox)
    count(summary, "", [row["status"] for row in finished])


PAYMENTS = WorkKind(
    name="payments",
    stream=keys.PAYMENTS_STREAM,
    counter_prefix="",
    sweep=payment_batches.sweep,
    claim=payment_batches.claim,
    park=payment_batches.park,
    unpark=payment_batches.unpark,
    execute=execute_payments,
)


def replay_dead_letters(dead_letter_ids: list[str] | None = None) -> dict[str, int]:
    """Put dead-lettered work back on its stream (all, or the given dead letters)."""
    letters = stream.list_dead_letters(10_000)
    if dead_letter_ids:
        wanted = set(dead_letter_ids)
        letters = [d for d in letters if d["dead_letter_id"] in wanted]
    replayed = 0
    for kind in (PAYMENTS, refund_batch.REFUNDS):
        ids = [d["id"] for d in letters if d.get("stream") == kind.stream]
        if not ids:
            continue
        with db.transaction() as conn:
            requeued = kind.unpark(conn, ids, utcnow())
        stream.add(kind.stream, requeued)
        replayed += len(requeued)
    stream.delete_dead_letters([d["dead_letter_id"] for d in letters])
    return {"replayed": replayed, "removed": len(letters)}


def queue_stats() -> dict[str, Any]:
    """Stream length, pending entries, oldest pending age, retries scheduled, dead letters."""
    stream.ensure_group(keys.PAYMENTS_STREAM)
    info = stream.pending_summary(keys.PAYMENTS_STREAM)
    with db.connection() as conn:
        retry_scheduled = payment_batches.count_retry_scheduled(conn)
    return {
        "stream": keys.PAYMENTS_STREAM,
        "length": info["length"],
        "pending": info["pending"],
        "oldest_pending_age_s": info["oldest_pending_age_s"],
        "retry_scheduled": retry_scheduled,
        "dead_letters": info["dead_letters"],
    }
