"""The batch processor for refunds: drain the refunds stream, bring each refund to a final state.

Same reliability pattern as payments (`services.batch`), run inside the same
`process_payments` invocation:
  sweep   — re-add due or stranded refunds that Postgres says are not in the stream;
  claim   — stale entries of dead consumers (XAUTOCLAIM), then new ones (XREADGROUP);
  lock    — `FOR UPDATE SKIP LOCKED` and CAS PENDING → PROCESSING, committed;
  execute — `processor.refund_many`, each call keyed by the refund id;
  finish  — refund results, payment totals and events in one transaction, then XACK.
A crash between the processor call and the commit is safe: the entry comes back
after the visibility timeout and the processor replays the refund it already made.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from chalicelib import db, settings
from chalicelib.clock import utcnow
from chalicelib.processor import get_processor
from chalicelib.processor.base import ProcessorResult, RefundRequest
from chalicelib.queue import keys, stream
from chalicelib.queue.stream import StreamEntry
from chalicelib.repository import refund_batches
from chalicelib.services import events
from chalicelib.services.batch import INFRASTRUCTURE_ERRORS, RunClock, backoff_seconds
from chalicelib.services.refunds import refund_from_row

log = logging.getLogger(__name__)

SUMMARY_KEYS = (
    "refunds_swept",
    "refunds_claimed",
    "refunds_succeeded",
    "refunds_failed",
    "refunds_retried",
    "refunds_dead_lettered",
)


def drain(consumer: str, clock: RunClock, summary: Counter[str]) -> None:
    """Sweep, then process stale and new refund entries while the time budget lasts.

    Adds its counts (`refunds_*`) to `summary`. Infrastructure errors propagate,
    as in the payments drain; nothing un-committed is acknowledged.
    """
    cfg = settings.get_settings()
    for key in SUMMARY_KEYS:
        summary[key] += 0
    stream.ensure_group(keys.REFUNDS_STREAM)
    summary["refunds_swept"] += sweep(cfg.sweep_limit)
    _drain(consumer, clock, summary, stale=True)
    _drain(consumer, clock, summary, stale=False)


def sweep(limit: int) -> int:
    """Re-add refunds that are due but not in the stream; returns how many."""
    cfg = settings.get_settings()
    now = utcnow()
    stale_before = now - timedelta(seconds=cfg.visibility_timeout_s)
    with db.transaction() as conn:
        refund_ids = refund_batches.sweep(conn, now, stale_before, limit)
    # Added after the commit: if this fails, enqueued_at ages out and a later sweep retries.
    stream.add(keys.REFUNDS_STREAM, refund_ids)
    return len(refund_ids)


def _drain(consumer: str, clock: RunClock, summary: Counter[str], *, stale: bool) -> None:
    cfg = settings.get_settings()
    idle_ms = int(cfg.visibility_timeout_s * 1000)
    while clock.has_time():
        if stale:
            entries = stream.claim_stale(keys.REFUNDS_STREAM, consumer, idle_ms, cfg.batch_size)
            entries = _dead_letter_poison(entries, summary)
        else:
            entries = stream.claim_new(keys.REFUNDS_STREAM, consumer, cfg.batch_size)
        if not entries:
            return
        summary["refunds_claimed"] += len(entries)
        _process_isolating_failures(entries, summary)


def _dead_letter_poison(entries: list[StreamEntry], summary: Counter[str]) -> list[StreamEntry]:
    """Move entries delivered too often to the dead-letter stream; return the rest."""
    if not entries:
        return entries
    limit = settings.get_settings().dead_letter_after_deliveries
    counts = stream.delivery_counts(keys.REFUNDS_STREAM, [e.entry_id for e in entries])
    poison = [
        StreamEntry(e.stream, e.entry_id, e.object_id, counts.get(e.entry_id, 1))
        for e in entries
        if counts.get(e.entry_id, 1) > limit
    ]
    if poison:
        errors = stream.last_errors(keys.REFUNDS_STREAM, [e.entry_id for e in poison])
        for entry in poison:
            stream.dead_letter([entry], errors.get(entry.entry_id) or "delivered too often")
        summary["refunds_dead_lettered"] += len(poison)
        log.error("dead-lettered refund stream entries", extra={"count": len(poison)})
    poisoned = {e.entry_id for e in poison}
    return [e for e in entries if e.entry_id not in poisoned]


def _process_isolating_failures(entries: list[StreamEntry], summary: Counter[str]) -> None:
    """Process a batch; if it fails unexpectedly, retry entries one by one to isolate poison."""
    try:
        process_batch(entries, summary)
        return
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception as exc:
        log.exception("refund batch failed; retrying its entries one by one")
        batch_error = f"{type(exc).__name__}: {exc}"
    for entry in entries:
        try:
            process_batch([entry], summary)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:  # left un-acked: redelivered, then dead-lettered
            stream.record_error(entry, f"{type(exc).__name__}: {exc}"[:1000] or batch_error)


def process_batch(entries: list[StreamEntry], summary: Counter[str]) -> None:
    """Lock, execute and finish the refunds of these entries, then acknowledge them."""
    cfg = settings.get_settings()
    refund_ids = list(dict.fromkeys(e.object_id for e in entries if e.object_id))
    now = utcnow()
    stale_before = now - timedelta(seconds=cfg.visibility_timeout_s)
    with db.transaction() as conn:
        claimed = refund_batches.claim(conn, refund_ids, now, stale_before)
    if claimed:
        requests = [_refund_request(r) for r in claimed]
        results = asyncio.run(get_processor().refund_many(requests))
        _finish(claimed, results, summary)
    # Entries whose refund was not claimable (final, not due, or being run by another
    # handler) are acknowledged too: Postgres and the sweep own them now.
    stream.ack(keys.REFUNDS_STREAM, [e.entry_id for e in entries])


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
    cfg = settings.get_settings()
    now = utcnow()
    columns: dict[str, list[Any]] = {
        "ids": [],
        "statuses": [],
        "attempts": [],
        "codes": [],
        "next_attempt_ats": [],
    }
    for row, result in zip(claimed, results, strict=True):
        attempt = row["attempts"]
        next_at = None
        code = result.failure_code
        if result.outcome == "succeeded":
            status, code = "SUCCESS", None
        elif result.outcome == "declined":
            status = "FAILED"
        elif attempt >= cfg.max_attempts:
            status, code = "FAILED", "processor_unavailable"
        else:
            status, code = "PENDING", None
            next_at = now + timedelta(
                seconds=backoff_seconds(attempt, cfg.retry_base_s, cfg.retry_cap_s)
            )
        columns["ids"].append(row["id"])
        columns["statuses"].append(status)
        columns["attempts"].append(attempt)
        columns["codes"].append(code)
        columns["next_attempt_ats"].append(next_at)
    with db.transaction() as conn:
        finished = refund_batches.finish(conn, columns, now)
        outbox = []
        for row in finished:
            if row["status"] == "SUCCESS":
                outbox.append((row["merchant_id"], "refund.succeeded", refund_from_row(row)))
            elif row["status"] == "FAILED":
                outbox.append((row["merchant_id"], "refund.failed", refund_from_row(row)))
        events.record_payment_events(conn, outbox)
    for row in finished:
        if row["status"] == "SUCCESS":
            summary["refunds_succeeded"] += 1
        elif row["status"] == "FAILED":
            summary["refunds_failed"] += 1
        else:
            summary["refunds_retried"] += 1
