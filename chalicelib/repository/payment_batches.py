"""SQL of the batch processor for payments: sweep, claim (lock + CAS), finish.

Each statement handles a whole batch, so the round trips per batch are constant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection
from chalicelib.repository import queued_rows
from chalicelib.repository.payments import PAYMENT_COLUMNS

SWEEP = queued_rows.sweep_statement("payments")

# Lock what this handler may execute (SKIP LOCKED: never wait for another handler)
# and move it PENDING → PROCESSING by compare-and-set. A PROCESSING row whose
# handler died past the visibility timeout is re-run at the same attempt number.
# No indexed column changes, so the update is heap-only (migration 0005); the
# claim's time (`claimed_at`) is its token for the finishing compare-and-set.
CLAIM = """
WITH claimable AS (
    SELECT id, status AS previous_status FROM payments
    WHERE id = ANY(%(ids)b::text[])
      AND enqueued_at IS DISTINCT FROM 'infinity'  -- parked (dead-lettered)
      AND ((status = 'PENDING' AND next_attempt_at <= %(now)s)
        OR (status = 'PROCESSING' AND processing_started_at < %(stale_before)s))
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE payments p
    SET status = 'PROCESSING',
        attempts = CASE WHEN c.previous_status = 'PENDING' THEN p.attempts + 1
                        ELSE p.attempts END,
        processing_started_at = %(now)s,
        updated_at = %(now)s
    FROM claimable c
    WHERE p.id = c.id
    RETURNING p.id, p.merchant_id, p.amount, p.currency, p.method, p.vpa, p.bank, p.wallet,
              p.method_token, p.attempts, p.processing_started_at AS claimed_at,
              c.previous_status
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status)
    SELECT id, %(now)s, 'PENDING', 'PROCESSING' FROM moved WHERE previous_status = 'PENDING'
)
SELECT * FROM moved
"""

# Write every result of a batch. The compare-and-set is on the claim itself
# (its time and attempt): a handler presumed dead, whose rows were claimed again,
# cannot overwrite the newer claim's result. `processing_started_at` is set only
# while PROCESSING (a CHECK), so no status test is needed; one would also make the
# planner expect a single PROCESSING row and loop over the batch once per row.
FINISH = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[],
                         %(statuses)b::text[], %(attempts)b::int[],
                         %(outcomes)b::text[], %(codes)b::text[], %(messages)b::text[],
                         %(next_attempt_ats)b::timestamptz[], %(latencies)b::int[],
                         %(attempt_codes)b::text[])
        AS r(id, claimed_at, status, attempt, outcome, failure_code, failure_message,
             next_attempt_at, latency_ms, attempt_failure_code)
), finished AS (
    UPDATE payments p
    SET status = r.status,
        failure_code = r.failure_code,
        failure_message = r.failure_message,
        next_attempt_at = r.next_attempt_at,
        released_at = CASE WHEN r.status = 'FAILED' THEN %(now)s END,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = %(now)s
    FROM result r
    WHERE p.id = r.id AND p.processing_started_at = r.claimed_at AND p.attempts = r.attempt
    RETURNING {", ".join("p." + c.strip() for c in PAYMENT_COLUMNS.split(","))},
              r.outcome, r.latency_ms, r.attempt_failure_code
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status, attempt, outcome,
                                 failure_code, latency_ms)
    SELECT id, %(now)s, 'PROCESSING', status, attempts, outcome, attempt_failure_code,
           latency_ms
    FROM finished
)
SELECT * FROM finished
"""

PARK = queued_rows.park_statement("payments")
UNPARK = queued_rows.unpark_statement("payments")

OLDEST_DUE_AGE_S = """
SELECT coalesce(extract(epoch FROM %(now)s - min(next_attempt_at)), 0)::float8 AS age_s
FROM payments WHERE status = 'PENDING' AND next_attempt_at <= %(now)s
"""

COUNT_RETRY_SCHEDULED = """
SELECT count(*) AS n FROM payments
WHERE next_attempt_at IS NOT NULL AND status = 'PENDING' AND attempts > 0
"""


def sweep(conn: Connection, now: datetime, stale_before: datetime, limit: int) -> list[str]:
    return queued_rows.run_sweep(conn, SWEEP, now, stale_before, limit)


def claim(
    conn: Connection, payment_ids: list[str], now: datetime, stale_before: datetime
) -> list[dict[str, Any]]:
    return conn.execute(
        CLAIM, {"ids": payment_ids, "now": now, "stale_before": stale_before}, prepare=False
    ).fetchall()


def finish(conn: Connection, results: dict[str, list[Any]], now: datetime) -> list[dict[str, Any]]:
    return conn.execute(FINISH, {**results, "now": now}, prepare=False).fetchall()


def count_retry_scheduled(conn: Connection) -> int:
    row = conn.execute(COUNT_RETRY_SCHEDULED).fetchone()
    return int(row["n"]) if row else 0


def oldest_due_age_s(conn: Connection, now: datetime) -> float:
    """How long the oldest due PENDING payment has waited (the queue lag), in seconds."""
    row = conn.execute(OLDEST_DUE_AGE_S, {"now": now}).fetchone()
    return float(row["age_s"]) if row else 0.0


def park(conn: Connection, payment_ids: list[str]) -> None:
    """Keep dead-lettered payments out of the sweep."""
    queued_rows.run_park(conn, PARK, payment_ids)


def unpark(conn: Connection, payment_ids: list[str], now: datetime) -> list[str]:
    """Return parked payments to the queue; the ids that were parked and are not final."""
    return queued_rows.run_unpark(conn, UNPARK, payment_ids, now)
