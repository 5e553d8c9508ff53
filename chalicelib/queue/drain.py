"""The drain loop: one kind of queued work, from stream entry to finished row.

For one kind, a run:
  sweep   — re-adds ids that Postgres says are due but are not in the stream;
  claim   — takes entries idle past the visibility timeout from dead consumers
            (XAUTOCLAIM; those delivered too often go to the dead-letter stream and
            their rows are parked), then new entries (XREADGROUP), and locks their
            rows PENDING → PROCESSING (`sql.claim`), while the worker has room;
  call    — starts their connector calls without waiting for them (`inflight`);
  finish  — `execute.finish_isolating_failures`: the answers that have come back, in
            one transaction, as they come;
  ack     — the entries of finished rows, and of rows that were not claimable.
Rows whose finish failed unexpectedly stay un-acked: they come back after the
visibility timeout and are dead-lettered after too many deliveries.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from chalicelib import db, settings
from chalicelib.clock import utcnow
from chalicelib.connectors import routing
from chalicelib.deadline import RunClock
from chalicelib.queue import sql, stream
from chalicelib.queue.execute import INFRASTRUCTURE_ERRORS, finish_isolating_failures
from chalicelib.queue.inflight import Answered, InFlight
from chalicelib.queue.kinds import Row, WorkKind
from chalicelib.queue.stream import StreamEntry

log = logging.getLogger(__name__)

__all__ = ["COUNTERS", "INFRASTRUCTURE_ERRORS", "drain", "sweep"]

COUNTERS = ("claimed", "succeeded", "failed", "retried", "unknown", "dead_lettered", "swept")


def drain(kind: WorkKind, consumer: str, clock: RunClock, summary: Counter[str]) -> None:
    """Sweep, then process stale and new entries of this kind while time lasts.

    New entries are drained by DRAIN_WORKERS threads, each with its share of
    DRAIN_IN_FLIGHT rows whose calls are running, so that one worker's database work
    overlaps the others' and the calls in flight. They are safe together for the same
    reasons as concurrent handlers: SKIP LOCKED, compare-and-set transitions and the
    connector's idempotency keys.
    """
    cfg = settings.get_settings()
    for name in COUNTERS:
        summary[kind.counter_prefix + name] += 0
    stream.ensure_group(kind.stream)
    summary[kind.counter_prefix + "swept"] += sweep(kind, cfg.sweep_limit)
    _drain_loop(kind, consumer, clock, summary, stale=True, capacity=cfg.drain_in_flight)
    workers = cfg.drain_workers
    capacity = max(1, cfg.drain_in_flight // workers)
    if workers == 1:
        _drain_loop(kind, consumer, clock, summary, stale=False, capacity=capacity)
        return
    counters: list[Counter[str]] = [Counter() for _ in range(workers)]
    with ThreadPoolExecutor(workers, thread_name_prefix=f"drain-{kind.name}") as pool:
        futures = [
            pool.submit(
                _drain_loop,
                kind,
                f"{consumer}-{i}",
                clock,
                counters[i],
                stale=False,
                capacity=capacity,
            )
            for i in range(workers)
        ]
    for counter in counters:
        summary.update(counter)
    for future in futures:
        future.result()  # re-raise a worker's infrastructure error, after all have stopped


def _drain_loop(
    kind: WorkKind,
    consumer: str,
    clock: RunClock,
    summary: Counter[str],
    *,
    stale: bool,
    capacity: int,
) -> None:
    """Claim while there is room, finish what has been answered; until nothing is left."""
    cfg = settings.get_settings()
    idle_ms = int(cfg.visibility_timeout_s * 1000)
    group = max(1, min(cfg.batch_size, capacity) // 4)  # claim and finish in such steps
    # Every call ends within its connector's deadline; waiting longer means it was lost.
    wait_s = cfg.acquirer_deadline_s + 5
    inflight = InFlight(kind, capacity)
    entries_of: dict[str, list[StreamEntry]] = {}
    more = True
    while True:
        while more and clock.has_time():
            count = inflight.claimable(cfg.batch_size, group)
            if not count:
                break
            if stale:
                entries = stream.claim_stale(kind.stream, consumer, idle_ms, count)
                entries = _dead_letter_poison(kind, entries, summary)
            else:
                entries = stream.claim_new(kind.stream, consumer, count)
            if not entries:
                more = False
                break
            summary[kind.counter_prefix + "claimed"] += len(entries)
            claimed = _claim(kind, entries)
            _hold_or_ack(kind, entries, claimed, entries_of)
            if claimed:
                inflight.start(claimed)
        if not inflight.count:
            return
        answered = inflight.answered(wait_s, group)
        if not answered:
            log.error("%s calls lost: no answer in %ss", kind.name, wait_s)
            return  # their entries stay un-acked: redelivered after the visibility timeout
        _finish(kind, answered, summary, entries_of)


def sweep(kind: WorkKind, limit: int) -> int:
    """Re-add ids that are due but not in the stream; returns how many."""
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.get_settings().visibility_timeout_s)
    with db.unit_of_work() as uow:
        ids = sql.sweep(uow.conn, kind.table, now, stale_before, limit)
    # Added after the commit: if this fails, enqueued_at ages out and a later sweep retries.
    stream.add(kind.stream, ids)
    return len(ids)


def _claim(kind: WorkKind, entries: list[StreamEntry]) -> list[Row]:
    """Lock the entries' rows PENDING → PROCESSING (routing them, for payments)."""
    ids = list(dict.fromkeys(e.object_id for e in entries if e.object_id))
    if not ids:
        return []
    now = utcnow()
    stale_before = now - timedelta(seconds=settings.get_settings().visibility_timeout_s)
    with db.unit_of_work() as uow:
        routes = routing.routes_for_batch(uow.conn) if kind.routed else None
        claimed = sql.claim(uow.conn, kind.table, ids, now, stale_before, routes)
    if routes is not None:
        _mark_failovers(claimed, routes)
    return claimed


def _hold_or_ack(
    kind: WorkKind,
    entries: list[StreamEntry],
    claimed: list[Row],
    entries_of: dict[str, list[StreamEntry]],
) -> None:
    """Hold the entries of claimed rows until they finish. The others are acknowledged:
    their row was not claimable (final, cancelled, parked, not due, or being run by
    another handler or already by this one), and Postgres and the sweep own it now."""
    taken = {row["id"] for row in claimed}
    unclaimed = []
    for entry in entries:
        if entry.object_id in taken:
            entries_of.setdefault(entry.object_id, []).append(entry)
        else:
            unclaimed.append(entry.entry_id)
    stream.ack(kind.stream, unclaimed)


def _finish(
    kind: WorkKind,
    answered: list[Answered],
    summary: Counter[str],
    entries_of: dict[str, list[StreamEntry]],
) -> None:
    """Finish the answered rows; acknowledge their entries, except where that failed."""
    errors = {
        a.row["id"]: f"{type(a.answer).__name__}: {a.answer}"[:1000]
        for a in answered
        if isinstance(a.answer, BaseException)
    }
    ok = [a for a in answered if a.row["id"] not in errors]
    if ok:
        errors |= finish_isolating_failures(
            kind, [a.row for a in ok], [a.answer for a in ok], summary
        )
    acked = []
    for a in answered:
        for entry in entries_of.pop(a.row["id"], []):
            if a.row["id"] in errors:
                stream.record_error(entry, errors[a.row["id"]])
            else:
                acked.append(entry.entry_id)
    stream.ack(kind.stream, acked)


def _mark_failovers(claimed: list[Row], routes: dict[str, Any]) -> None:
    """Flag fresh attempts that went elsewhere than their merchant's primary."""
    primaries = routes["primaries"]
    for row in claimed:
        primary = primaries.get(row["merchant_id"], primaries[""])
        row["failed_over"] = row["previous_status"] == "PENDING" and row["connector"] != primary


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
