"""The drain loop: one kind of queued work, from stream entry to finished row.

For one kind, a run:
  sweep   — re-adds ids that Postgres says are due but are not in the stream;
  claim   — takes entries idle past the visibility timeout from dead consumers
            (XAUTOCLAIM; those delivered too often go to the dead-letter stream and
            their rows are parked), then new entries (XREADGROUP), and locks their
            rows PENDING → PROCESSING (`sql.claim`);
  execute — `execute.execute_batch`: connector calls, then the finishing transaction;
  ack     — everything but the entries whose work failed unexpectedly.
A batch that fails unexpectedly is re-executed row by row, so that one poison row
does not hold the others back; the connector replays calls it already answered.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import redis

from chalicelib import db, settings
from chalicelib.clock import utcnow
from chalicelib.connectors import routing
from chalicelib.deadline import RunClock
from chalicelib.errors import ServiceUnavailableError
from chalicelib.queue import sql, stream
from chalicelib.queue.execute import execute_batch
from chalicelib.queue.kinds import Row, WorkKind
from chalicelib.queue.stream import StreamEntry

log = logging.getLogger(__name__)

INFRASTRUCTURE_ERRORS = (psycopg.OperationalError, redis.RedisError, ServiceUnavailableError)
COUNTERS = ("claimed", "succeeded", "failed", "retried", "unknown", "dead_lettered", "swept")


def drain(kind: WorkKind, consumer: str, clock: RunClock, summary: Counter[str]) -> None:
    """Sweep, then process stale and new entries of this kind while time lasts.

    New entries are drained by DRAIN_WORKERS threads, each claiming and finishing its
    own batches, so that one batch's connector calls overlap another's database work.
    They are safe together for the same reasons as concurrent handlers: SKIP LOCKED,
    compare-and-set transitions and the connector's idempotency keys.
    """
    cfg = settings.get_settings()
    for name in COUNTERS:
        summary[kind.counter_prefix + name] += 0
    stream.ensure_group(kind.stream)
    summary[kind.counter_prefix + "swept"] += sweep(kind, cfg.sweep_limit)
    _drain_loop(kind, consumer, clock, summary, stale=True)
    workers = cfg.drain_workers
    if workers == 1:
        _drain_loop(kind, consumer, clock, summary, stale=False)
        return
    counters = [Counter() for _ in range(workers)]
    with ThreadPoolExecutor(workers, thread_name_prefix=f"drain-{kind.name}") as pool:
        futures = [
            pool.submit(_drain_loop, kind, f"{consumer}-{i}", clock, counters[i], stale=False)
            for i in range(workers)
        ]
    for counter in counters:
        summary.update(counter)
    for future in futures:
        future.result()  # re-raise a worker's infrastructure error, after all have stopped


def _drain_loop(
    kind: WorkKind, consumer: str, clock: RunClock, summary: Counter[str], *, stale: bool
) -> None:
    cfg = settings.get_settings()
    idle_ms = int(cfg.visibility_timeout_s * 1000)
    while clock.has_time():
        if stale:
            entries = stream.claim_stale(kind.stream, consumer, idle_ms, cfg.batch_size)
            entries = _dead_letter_poison(kind, entries, summary)
        else:
            entries = stream.claim_new(kind.stream, consumer, cfg.batch_size)
        if not entries:
            return
        summary[kind.counter_prefix + "claimed"] += len(entries)
        process_batch(kind, entries, summary)


def sweep(kind: WorkKind, limit: int) -> int:
    """Re-add ids that are due but not in the stream; returns how many."""
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.get_settings().visibility_timeout_s)
    with db.unit_of_work() as uow:
        ids = sql.sweep(uow.conn, kind.table, now, stale_before, limit)
    # Added after the commit: if this fails, enqueued_at ages out and a later sweep retries.
    stream.add(kind.stream, ids)
    return len(ids)


def process_batch(kind: WorkKind, entries: list[StreamEntry], summary: Counter[str]) -> None:
    """Claim, execute and acknowledge a batch of entries.

    Entries whose row failed unexpectedly stay un-acked: they come back after the
    visibility timeout and are dead-lettered after too many deliveries. Entries
    whose row was not claimable (final, cancelled, parked, not due, or being run by
    another handler) are acknowledged: Postgres and the sweep own them now.
    """
    ids = list(dict.fromkeys(e.object_id for e in entries if e.object_id))
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.get_settings().visibility_timeout_s)
    with db.unit_of_work() as uow:
        routes = routing.routes_for_batch(uow.conn) if kind.routed else None
        claimed = sql.claim(uow.conn, kind.table, ids, now, stale_before, routes)
    if routes is not None:
        _mark_failovers(claimed, routes)
    errors = _execute_isolating_failures(kind, claimed, summary) if claimed else {}
    for entry in entries:
        if entry.object_id in errors:
            stream.record_error(entry, errors[entry.object_id])
    stream.ack(kind.stream, [e.entry_id for e in entries if e.object_id not in errors])


def _mark_failovers(claimed: list[Row], routes: dict) -> None:  # type: ignore[type-arg]
    """Flag fresh attempts that went elsewhere than their merchant's primary."""
    primaries = routes["primaries"]
    for row in claimed:
        primary = primaries.get(row["merchant_id"], primaries[""])
        row["failed_over"] = row["previous_status"] == "PENDING" and row["connector"] != primary


def _execute_isolating_failures(
    kind: WorkKind, claimed: list[Row], summary: Counter[str]
) -> dict[str, str]:
    try:
        execute_batch(kind, claimed, summary)
        return {}
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:
        log.exception("%s batch failed; re-executing its rows one by one", kind.name)
    errors: dict[str, str] = {}
    for row in claimed:
        try:
            execute_batch(kind, [row], summary)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            errors[row["id"]] = f"{type(exc).__name__}: {exc}"[:1000]
    return errors


def _dead_letter_poison(
    kind: WorkKind, entries: list[StreamEntry], summary: Counter[str]
) -> list[StreamEntry]:
    """Move entries delivered too often to the dead-letter stream, park their rows,
    and return the other entries."""
    if not entries:
        return entries
    limit = settings.get_settings().dead_letter_after_deliveries
    counts = stream.delivery_counts(kind.stream, [e.entry_id for e in entries])
    poison = [
        StreamEntry(e.stream, e.entry_id, e.object_id, counts.get(e.entry_id, 1))
        for e in entries
        if counts.get(e.entry_id, 1) > limit
    ]
    if not poison:
        return entries
    errors = stream.last_errors(kind.stream, [e.entry_id for e in poison])
    with db.unit_of_work() as uow:
        sql.park(uow.conn, kind.table, [e.object_id for e in poison])
    for entry in poison:
        stream.dead_letter([entry], errors.get(entry.entry_id) or "delivered too often")
    summary[kind.counter_prefix + "dead_lettered"] += len(poison)
    log.error("dead-lettered %s entries", kind.name, extra={"count": len(poison)})
    poisoned = {e.entry_id for e in poison}
    return [e for e in entries if e.entry_id not in poisoned]
