"""SQL of the batch processor for refunds: sweep, claim (lock + CAS), finish.

Mirrors `payment_batches`: each statement handles a whole batch, so the round
trips per batch are constant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection
from chalicelib.repository import queued_rows
from chalicelib.repository.refunds import REFUND_COLUMNS

SWEEP = queued_rows.sweep_statement("refunds")

# Lock what this handler may execute (SKIP LOCKED: never wait for another handler)
# and move it PENDING → PROCESSING by compare-and-set. A PROCESSING row whose
# handler died past the visibility timeout is re-run at the same attempt number;
# the processor replays it by its idempotency key (the refund id).
CLAIM = """
WITH claimable AS (
    SELECT id, status AS previous_status FROM refunds
    WHERE id = ANY(%(ids)b::text[])
      AND enqueued_at IS DISTINCT FROM 'infinity'  -- parked (dead-lettered)
      AND ((status = 'PENDING' AND next_attempt_at <= %(now)s)
        OR (status = 'PROCESSING' AND processing_started_at < %(stale_before)s))
    FOR UPDATE SKIP LOCKED
)
UPDATE refunds r
SET status = 'PROCESSING',
    attempts = CASE WHEN c.previous_status = 'PENDING' THEN r.attempts + 1 ELSE r.attempts END,
    processing_started_at = %(now)s
FROM claimable c
WHERE r.id = c.id
RETURNING r.id, r.merchant_id, r.payment_id, r.amount, r.currency, r.attempts,
          r.processing_started_at AS claimed_at
"""

# Write every result of a batch and move the payments' refund totals, in one
# statement. The CAS on the claim (its time and attempt, as for payments) keeps a
# handler presumed dead from writing over a newer result. Totals are summed per
# payment, since one batch may hold several refunds of the same payment.
FINISH = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(claimed_ats)b::timestamptz[],
                         %(statuses)b::text[], %(attempts)b::int[],
                         %(codes)b::text[], %(next_attempt_ats)b::timestamptz[])
        AS r(id, claimed_at, status, attempt, failure_code, next_attempt_at)
), finished AS (
    UPDATE refunds f
    SET status = r.status,
        failure_code = r.failure_code,
        next_attempt_at = r.next_attempt_at,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = CASE WHEN r.status = 'PENDING' THEN f.updated_at ELSE %(now)s END
    FROM result r
    WHERE f.id = r.id AND f.processing_started_at = r.claimed_at AND f.attempts = r.attempt
    RETURNING {", ".join("f." + c.strip() for c in REFUND_COLUMNS.split(","))}
), per_payment AS (
    SELECT payment_id,
           coalesce(sum(amount) FILTER (WHERE status = 'SUCCESS'), 0) AS succeeded,
           coalesce(sum(amount) FILTER (WHERE status = 'FAILED'), 0) AS failed
    FROM finished
    GROUP BY payment_id
), totals AS (
    UPDATE payments p
    SET amount_refunded = p.amount_refunded + s.succeeded,
        amount_refund_reserved = p.amount_refund_reserved - s.failed,
        updated_at = %(now)s
    FROM per_payment s
    WHERE p.id = s.payment_id AND (s.succeeded > 0 OR s.failed > 0)
)
SELECT * FROM finished
"""


def sweep(conn: Connection, now: datetime, stale_before: datetime, limit: int) -> list[str]:
    return queued_rows.run_sweep(conn, SWEEP, now, stale_before, limit)


def claim(
    conn: Connection, refund_ids: list[str], now: datetime, stale_before: datetime
) -> list[dict[str, Any]]:
    """Lock and move to PROCESSING the refunds of these ids that this handler may run."""
    return conn.execute(
        CLAIM, {"ids": refund_ids, "now": now, "stale_before": stale_before}, prepare=False
    ).fetchall()


def finish(conn: Connection, results: dict[str, list[Any]], now: datetime) -> list[dict[str, Any]]:
    """Write a batch's results and payment totals; returns the refunds actually finished."""
    return conn.execute(FINISH, {**results, "now": now}, prepare=False).fetchall()


PARK = queued_rows.park_statement("refunds")
UNPARK = queued_rows.unpark_statement("refunds")


def park(conn: Connection, refund_ids: list[str]) -> None:
    """Keep dead-lettered refunds out of the sweep."""
    queued_rows.run_park(conn, PARK, refund_ids)


def unpark(conn: Connection, refund_ids: list[str], now: datetime) -> list[str]:
    """Return parked refunds to the queue; the ids that were parked and are not final."""
    return queued_rows.run_unpark(conn, UNPARK, refund_ids, now)
