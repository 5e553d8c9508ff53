"""SQL of the batch processor for refunds: sweep, claim (lock + CAS), finish.

Mirrors `payment_batches`: each statement handles a whole batch, so the round
trips per batch are constant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection
from chalicelib.repository.refunds import REFUND_COLUMNS

# Due PENDING refunds and PROCESSING ones whose handler died, that were not added
# to the stream within the visibility timeout (uses refunds_due / refunds_processing).
SWEEP = """
UPDATE refunds r SET enqueued_at = %(now)s
WHERE r.status IN ('PENDING', 'PROCESSING')
  AND r.id IN (
    (SELECT id FROM refunds
     WHERE status = 'PENDING' AND next_attempt_at <= %(now)s
       AND (enqueued_at IS NULL OR enqueued_at < %(stale_before)s)
     ORDER BY next_attempt_at LIMIT %(limit)s)
    UNION ALL
    (SELECT id FROM refunds
     WHERE status = 'PROCESSING' AND processing_started_at < %(stale_before)s
       AND (enqueued_at IS NULL OR enqueued_at < %(stale_before)s)
     LIMIT %(limit)s))
RETURNING r.id
"""

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
RETURNING r.id, r.merchant_id, r.payment_id, r.amount, r.currency, r.attempts
"""

# Write every result of a batch and move the payments' refund totals, in one
# statement. The CAS on status and attempt keeps a handler presumed dead from
# writing over a newer result. Totals are summed per payment, since one batch
# may hold several refunds of the same payment.
FINISH = f"""
WITH result AS (
    SELECT * FROM unnest(%(ids)b::text[], %(statuses)b::text[], %(attempts)b::int[],
                         %(codes)b::text[], %(next_attempt_ats)b::timestamptz[])
        AS r(id, status, attempt, failure_code, next_attempt_at)
), finished AS (
    UPDATE refunds f
    SET status = r.status,
        failure_code = r.failure_code,
        next_attempt_at = r.next_attempt_at,
        enqueued_at = NULL,
        processing_started_at = NULL,
        updated_at = CASE WHEN r.status = 'PENDING' THEN f.updated_at ELSE %(now)s END
    FROM result r
    WHERE f.id = r.id AND f.status = 'PROCESSING' AND f.attempts = r.attempt
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
    """Mark due or stranded refunds as enqueued now; returns their ids."""
    rows = conn.execute(
        SWEEP, {"now": now, "stale_before": stale_before, "limit": limit}
    ).fetchall()
    return [r["id"] for r in rows]


def claim(
    conn: Connection, refund_ids: list[str], now: datetime, stale_before: datetime
) -> list[dict[str, Any]]:
    """Lock and move to PROCESSING the refunds of these ids that this handler may run."""
    return conn.execute(
        CLAIM, {"ids": refund_ids, "now": now, "stale_before": stale_before}
    ).fetchall()


def finish(conn: Connection, results: dict[str, list[Any]], now: datetime) -> list[dict[str, Any]]:
    """Write a batch's results and payment totals; returns the refunds actually finished."""
    return conn.execute(FINISH, {**results, "now": now}).fetchall()


# A dead-lettered refund is parked: the sweep skips it until an operator replays it.
PARK = "UPDATE refunds SET enqueued_at = 'infinity' WHERE id = ANY(%(ids)b::text[])"
UNPARK = """
UPDATE refunds SET enqueued_at = %(now)s
WHERE id = ANY(%(ids)b::text[]) AND enqueued_at = 'infinity'
  AND status IN ('PENDING', 'PROCESSING')
RETURNING id
"""


def park(conn: Connection, refund_ids: list[str]) -> None:
    """Keep dead-lettered refunds out of the sweep."""
    conn.execute(PARK, {"ids": refund_ids})


def unpark(conn: Connection, refund_ids: list[str], now: datetime) -> list[str]:
    """Return parked refunds to the queue; the ids that were parked and are not final."""
    return [r["id"] for r in conn.execute(UNPARK, {"ids": refund_ids, "now": now}).fetchall()]
