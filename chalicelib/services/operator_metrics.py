"""What the operator view shows: queue health, throughput, volume, dead letters.

Queue figures and dead-letter replay come from the queue's own operator functions
(`queue.operations.queue_stats`, `replay_dead_letters`), so the page and the CLI
(`workers.admin queue-stats`, `dlq-replay`) always agree. Each function receives the
caller's unit of work (or its connection).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import db
from chalicelib.clock import utcnow
from chalicelib.models.operator import (
    CurrencyAmount,
    DeadLetter,
    MerchantVolume,
    QueueMetrics,
    Throughput,
    ThroughputPoint,
)
from chalicelib.repository import operator_metrics

# The queue, the stream and Redis are imported on first use, not with the app: they
# are most of a cold start, and only these routes (and the handlers) need them.


def queue_metrics(conn: db.Connection) -> QueueMetrics:
    """Depth, pending entries, oldest age, lag, retries scheduled and dead letters."""
    from chalicelib.queue import operations, sql

    now = utcnow()
    stats = operations.queue_stats(conn)
    lag_s = sql.oldest_due_payment_age_s(conn, now)
    return QueueMetrics(
        stream=stats["stream"],
        length=stats["length"],
        pending=stats["pending"],
        oldest_pending_age_s=stats["oldest_pending_age_s"],
        lag_s=round(lag_s, 3),
        retry_scheduled=stats["retry_scheduled"],
        dead_letters=stats["dead_letters"],
        unknown_outcomes=stats["unknown_payment_attempts"]
        + stats["unknown_refund_attempts"]
        + stats["unknown_operations"],
        flagged_unknown_outcomes=stats["flagged_payments"] + stats["flagged_refunds"],
        orphan_charges_open=sum(
            stats["orphan_charges"][s] for s in ("found", "failed", "in_flight")
        ),
        orphan_charges_reversed=stats["orphan_charges"]["reversed"],
        at=now,
    )


def throughput(conn: db.Connection, minutes: int) -> Throughput:
    """Payments accepted, succeeded and failed per minute, oldest minute first, gaps as 0."""
    now = utcnow().replace(second=0, microsecond=0)
    since = now - timedelta(minutes=minutes - 1)
    accepted = operator_metrics.accepted_by_minute(conn, since)
    finished = operator_metrics.finished_by_minute(conn, since)
    points = []
    for i in range(minutes):
        minute = since + timedelta(minutes=i)
        succeeded, failed = finished.get(minute, (0, 0))
        points.append(
            ThroughputPoint(
                at=minute, accepted=accepted.get(minute, 0), succeeded=succeeded, failed=failed
            )
        )
    return Throughput(interval_s=60, data=points)


def merchant_volume(
    conn: db.Connection, hours: int, limit: int
) -> tuple[list[MerchantVolume], bool]:
    """The busiest merchants of the last `hours`: counts, success rate, volume by currency."""
    since = utcnow() - timedelta(hours=hours)
    rows = operator_metrics.volume_by_merchant(conn, since, limit + 1)
    data = []
    for row in rows[:limit]:
        decided = row["succeeded"] + row["failed"]
        data.append(
            MerchantVolume(
                merchant_id=row["merchant_id"],
                name=row["name"],
                payments=row["payments"],
                succeeded=row["succeeded"],
                failed=row["failed"],
                success_rate=round(row["succeeded"] / decided, 4) if decided else None,
                volume=[CurrencyAmount(**v) for v in row["volume"]],
            )
        )
    return data, len(rows) > limit


def dead_letters(limit: int) -> tuple[list[DeadLetter], bool]:
    """The oldest dead letters first (the order they were parked in)."""
    from chalicelib.queue import operations

    letters = operations.list_dead_letters(limit + 1)
    data = [
        DeadLetter(
            id=d["dead_letter_id"],
            stream=d.get("stream", ""),
            object_id=d.get("id", ""),
            deliveries=int(d.get("deliveries") or 0),
            error=d.get("error", ""),
        )
        for d in letters[:limit]
    ]
    return data, len(letters) > limit


def replay(uow: db.UnitOfWork, dead_letter_ids: list[str] | None) -> dict[str, int]:
    """Put dead letters (all, or the given ones) back on their stream."""
    from chalicelib.queue import operations

    return operations.replay_dead_letters(uow, dead_letter_ids)
