"""The batch processor: drain the payments stream and bring each payment to one final state.

One run (`process_payments`) follows DESIGN.md's reliability model:
  sweep   — re-add due or stranded payments that Postgres says are not in the stream;
  claim   — take stale entries from dead consumers (XAUTOCLAIM), then new ones (XREADGROUP);
  lock    — `FOR UPDATE SKIP LOCKED` and CAS PENDING → PROCESSING, committed;
  execute — processor calls of the batch run concurrently, keyed by the payment id;
  finish  — all results, history and events in one transaction, then XACK.
A crash anywhere leaves a state the next run completes: un-acked entries come back
after the visibility timeout, and the processor replays a charge it already made.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import redis

from chalicelib import db, faults, metrics, settings
from chalicelib.clock import utcnow
from chalicelib.errors import ServiceUnavailableError
from chalicelib.processor import get_processor
from chalicelib.processor.base import ChargeRequest, ProcessorResult
from chalicelib.queue import keys, stream
from chalicelib.queue.stream import StreamEntry
from chalicelib.repository import payment_batches
from chalicelib.services import events
from chalicelib.services.payments import payment_from_row

log = logging.getLogger(__name__)

INFRASTRUCTURE_ERRORS = (psycopg.OperationalError, redis.RedisError, ServiceUnavailableError)


@dataclass
class RunClock:
    """The invocation's deadline, from the Lambda context when there is one."""

    context: Any
    margin_ms: int

    def has_time(self) -> bool:
        if self.context is None or not hasattr(self.context, "get_remaining_time_in_millis"):
            return True
        return self.context.get_remaining_time_in_millis() > self.margin_ms


def backoff_seconds(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return random.uniform(0, min(cap_s, base_s * 2 ** max(0, attempt - 1)))


def _consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def process_payments(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns its summary (also logged as one JSON line)."""
    cfg = settings.get_settings()
    started = time.perf_counter()
    summary: Counter[str] = Counter(
        claimed=0, succeeded=0, failed=0, retried=0, dead_lettered=0, swept=0
    )
    clock = RunClock(context, cfg.time_budget_margin_ms)
    consumer = _consumer_name()
    error = None
    queue_lag_s = 0.0
    try:
        stream.ensure_group(keys.PAYMENTS_STREAM)
        with db.connection() as conn:
            queue_lag_s = payment_batches.oldest_due_age_s(conn, utcnow())
        summary["swept"] = sweep(cfg.sweep_limit)
        _drain(consumer, clock, summary, stale=True)
        _drain(consumer, clock, summary, stale=False)
        from chalicelib.services import refund_batch  # lazy: refund_batch imports this module

        refund_batch.drain(consumer, clock, summary)
    except INFRASTRUCTURE_ERRORS as exc:
        # Nothing un-committed was acknowledged; the next run completes the work.
        error = f"{type(exc).__name__}: dependency unavailable"
        log.warning("process_payments stopped early", extra={"error": error})
    result: dict[str, Any] = {
        "handler": "process_payments",
        **summary,
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
            "BatchDuration": (result["duration_ms"], "Milliseconds"),
            "QueueLag": (round(queue_lag_s, 3), "Seconds"),
        },
        {
            "message": "process_payments summary",
            "level": "error" if "error" in result else "info",
            **({"error": result["error"]} if "error" in result else {}),
        },
    )


def sweep(limit: int) -> int:
    """Re-add payments that are due but not in the stream; returns how many."""
    cfg = settings.get_settings()
    now = utcnow()
    stale_before = now - timedelta(seconds=cfg.visibility_timeout_s)
    with db.transaction() as conn:
        ids = payment_batches.sweep(conn, now, stale_before, limit)
    # Added after the commit: if this fails, enqueued_at ages out and a later sweep retries.
    stream.add(keys.PAYMENTS_STREAM, ids)
    return len(ids)


def _drain(consumer: str, clock: RunClock, summary: Counter[str], *, stale: bool) -> None:
    cfg = settings.get_settings()
    idle_ms = int(cfg.visibility_timeout_s * 1000)
    while clock.has_time():
        if stale:
            entries = stream.claim_stale(keys.PAYMENTS_STREAM, consumer, idle_ms, cfg.batch_size)
            entries = _dead_letter_poison(entries, summary)
        else:
            entries = stream.claim_new(keys.PAYMENTS_STREAM, consumer, cfg.batch_size)
        if not entries:
            return
        summary["claimed"] += len(entries)
        process_batch(entries, summary)


def _dead_letter_poison(entries: list[StreamEntry], summary: Counter[str]) -> list[StreamEntry]:
    """Move entries delivered too often to the dead-letter stream; return the rest."""
    if not entries:
        return entries
    limit = settings.get_settings().dead_letter_after_deliveries
    counts = stream.delivery_counts(keys.PAYMENTS_STREAM, [e.entry_id for e in entries])
    poison = [
        StreamEntry(e.stream, e.entry_id, e.object_id, counts.get(e.entry_id, 1))
        for e in entries
        if counts.get(e.entry_id, 1) > limit
    ]
    if poison:
        errors = stream.last_errors(keys.PAYMENTS_STREAM, [e.entry_id for e in poison])
        with db.transaction() as conn:
            payment_batches.park(conn, [e.object_id for e in poison])
        for entry in poison:
            stream.dead_letter([entry], errors.get(entry.entry_id) or "delivered too often")
        summary["dead_lettered"] += len(poison)
        log.error("dead-lettered stream entries", extra={"count": len(poison)})
    poisoned = {e.entry_id for e in poison}
    return [e for e in entries if e.entry_id not in poisoned]


def process_batch(entries: list[StreamEntry], summary: Counter[str]) -> None:
    """Lock, execute and finish the payments of these entries, then acknowledge them.

    Entries whose payment failed with an unexpected error stay un-acked: they come
    back after the visibility timeout and are dead-lettered after too many deliveries.
    """
    cfg = settings.get_settings()
    payment_ids = list(dict.fromkeys(e.object_id for e in entries if e.object_id))
    now = utcnow()
    stale_before = now - timedelta(seconds=cfg.visibility_timeout_s)
    with db.transaction() as conn:
        claimed = payment_batches.claim(conn, payment_ids, now, stale_before)
    errors = _execute_isolating_failures(claimed, summary) if claimed else {}
    for entry in entries:
        if entry.object_id in errors:
            stream.record_error(entry, errors[entry.object_id])
    # Entries whose payment was not claimable (final, cancelled, not due, or being run
    # by another handler) are acknowledged too: Postgres and the sweep own them now.
    stream.ack(keys.PAYMENTS_STREAM, [e.entry_id for e in entries if e.object_id not in errors])


def _execute_isolating_failures(
    claimed: list[dict[str, Any]], summary: Counter[str]
) -> dict[str, str]:
    """Execute the claimed payments; if the batch fails unexpectedly, retry them one by
    one so that a poison payment does not hold the others back. Returns id -> error."""
    try:
        _execute(claimed, summary)
        return {}
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:
        log.exception("batch failed; retrying its payments one by one")
    errors: dict[str, str] = {}
    for row in claimed:
        try:
            _execute([row], summary)  # the processor replays what it already did
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            errors[row["id"]] = f"{type(exc).__name__}: {exc}"[:1000]
    return errors


def _execute(claimed: list[dict[str, Any]], summary: Counter[str]) -> None:
    results = asyncio.run(get_processor().charge_many([_charge_request(r) for r in claimed]))
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
    cfg = settings.get_settings()
    now = utcnow()
    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "ids",
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
        next_at = None
        code, message = result.failure_code, result.failure_message
        if result.outcome == "succeeded":
            status = "SUCCESS"
            code = message = None
        elif result.outcome == "declined":
            status = "FAILED"
        elif attempt >= cfg.max_attempts:
            status = "FAILED"
            code = "processor_unavailable"
            message = f"The processor was unavailable on all {attempt} attempts"
        else:
            status = "PENDING"
            next_at = now + timedelta(
                seconds=backoff_seconds(attempt, cfg.retry_base_s, cfg.retry_cap_s)
            )
            code = message = None
        columns["ids"].append(row["id"])
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
        outbox = []
        for row in finished:
            if row["status"] == "SUCCESS":
                outbox.append((row["merchant_id"], "payment.succeeded", payment_from_row(row)))
            elif row["status"] == "FAILED":
                outbox.append((row["merchant_id"], "payment.failed", payment_from_row(row)))
        events.record_payment_events(conn, outbox)
    for row in finished:
        if row["status"] == "SUCCESS":
            summary["succeeded"] += 1
        elif row["status"] == "FAILED":
            summary["failed"] += 1
        else:
            summary["retried"] += 1


def replay_dead_letters(dead_letter_ids: list[str] | None = None) -> dict[str, int]:
    """Put dead-lettered payments back on the queue (all, or the given dead letters)."""
    letters = stream.list_dead_letters(10_000)
    if dead_letter_ids:
        wanted = set(dead_letter_ids)
        letters = [d for d in letters if d["dead_letter_id"] in wanted]
    payment_ids = [d["id"] for d in letters if d.get("stream") == keys.PAYMENTS_STREAM]
    with db.transaction() as conn:
        requeued = payment_batches.unpark(conn, payment_ids, utcnow())
    stream.add(keys.PAYMENTS_STREAM, requeued)
    stream.delete_dead_letters([d["dead_letter_id"] for d in letters])
    return {"replayed": len(requeued), "removed": len(letters)}


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
