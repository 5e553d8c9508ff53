"""Every SQL statement of the queue, generated once per queued table at import.

A queued table (payments, refunds) has `status`, `attempts`, `next_attempt_at`,
`enqueued_at` and `processing_started_at`. CHECK constraints keep `next_attempt_at`
set exactly while a row is open (PENDING or PROCESSING) and `processing_started_at`
exactly while it is PROCESSING; one partial index holds the open rows by
`next_attempt_at` (migration 0005). No index reads a column a claim writes, so a
claim is a heap-only update.

Per table (`QueuedTable`): sweep, claim, park, unpark, mark-not-enqueued.
Per kind: the finish statement, which writes a whole batch's results with the
kind's own columns, history and totals. Every statement handles a whole batch,
so round trips per batch are constant; the ones over 1,000-element arrays run
unprepared (`prepare=False`) so that Postgres always plans them for their input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.db import Connection
from chalicelib.repository.payments import PAYMENT_COLUMNS
from chalicelib.repository.refunds import REFUND_COLUMNS

Rows = list[dict[str, Any]]


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


@dataclass(frozen=True)
class QueuedTable:
    """The statements that move one table's rows through the queue."""

    table: str
    sweep: str
    claim: str
    park: str
    unpark: str
    mark_not_enqueued: str


def queued_table(
    table: str, claim_returning: str, *, claim_sets: str = "", claim_history: str = ""
) -> QueuedTable:
    """Generate the statements of one table (a constant name, never user input)."""
    # The sweep: open rows that are due — PENDING ones, and PROCESSING ones whose
    # handler died — and were not added to the stream within the visibility timeout,
    # oldest due first. The outer status test is re-checked on rows that changed
    # while the statement waited for their lock.
    sweep = f"""
UPDATE {table} t SET enqueued_at = %(now)s
WHERE t.status IN ('PENDING', 'PROCESSING')
  AND t.id IN (
    SELECT id FROM {table}
    WHERE next_attempt_at <= %(now)s
      AND (enqueued_at IS NULL OR enqueued_at < %(stale_before)s)
      AND (status = 'PENDING' OR processing_started_at < %(stale_before)s)
    ORDER BY next_attempt_at LIMIT %(limit)s)
RETURNING t.id
"""
    # The claim: lock what this handler may execute (SKIP LOCKED: never wait for
    # another handler) and move it PENDING → PROCESSING by compare-and-set. A
    # PROCESSING row whose handler died past the visibility timeout is re-run at the
    # same attempt number (the connector replays it by its idempotency key). The
    # claim's time (`claimed_at`) is its token for the finishing compare-and-set.
    claim = f"""
WITH claimable AS (
    SELECT id, status AS previous_status FROM {table}
    WHERE id = ANY(%(ids)b::text[])
      AND enqueued_at IS DISTINCT FROM 'infinity'  -- parked (dead-lettered)
      AND ((status = 'PENDING' AND next_attempt_at <= %(now)s)
        OR (status = 'PROCESSING' AND processing_started_at < %(stale_before)s))
    FOR UPDATE SKIP LOCKED
), moved AS (
    UPDATE {table} t
    SET status = 'PROCESSING',
        attempts = CASE WHEN c.previous_status = 'PENDING' THEN t.attempts + 1
                        ELSE t.attempts END,
        processing_started_at = %(now)s{claim_sets}
    FROM claimable c
    WHERE t.id = c.id
    RETURNING {claim_returning}, t.attempts, t.processing_started_at AS claimed_at,
              c.previous_status
){claim_history}
SELECT * FROM moved
"""
    return QueuedTable(
        table=table,
        sweep=sweep,
        claim=claim,
        # A dead-lettered row is parked: the sweep skips it until an operator replays it.
        park=f"UPDATE {table} SET enqueued_at = 'infinity' WHERE id = ANY(%(ids)b::text[])",
        unpark=f"""
UPDATE {table} SET enqueued_at = %(now)s
WHERE id = ANY(%(ids)b::text[]) AND enqueued_at = 'infinity'
  AND status IN ('PENDING', 'PROCESSING')
RETURNING id
""",
        # Redis refused the XADD after the accept committed: due to the sweep at once.
        mark_not_enqueued=(
            f"UPDATE {table} SET enqueued_at = NULL WHERE id = %(id)s AND status = 'PENDING'"
        ),
    )


PAYMENTS = queued_table(
    "payments",
    "t.id, t.merchant_id, t.amount, t.currency, t.method, t.vpa, t.bank, t.wallet, t.method_token",
    claim_sets=",\n        updated_at = %(now)s",
    claim_history="""
, history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status)
    SELECT id, %(now)s, 'PENDING', 'PROCESSING' FROM moved WHERE previous_status = 'PENDING'
)""",
)

REFUNDS = queued_table("refunds", "t.id, t.merchant_id, t.payment_id, t.amount, t.currency")

# Write every result of a payments batch. The compare-and-set is on the claim itself
# (its time and attempt): a handler presumed dead, whose rows were claimed again,
# cannot overwrite the newer claim's result. `processing_started_at` is set only
# while PROCESSING (a CHECK), so no status test is needed; one would also make the
# planner expect a single PROCESSING row and loop over the batch once per row.
FINISH_PAYMENTS = f"""
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
    RETURNING {_prefixed("p", PAYMENT_COLUMNS)},
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

# Write every result of a refunds batch and move the payments' refund totals, in one
# statement, with the same compare-and-set on the claim. Totals are summed per
# payment, since one batch may hold several refunds of the same payment.
FINISH_REFUNDS = f"""
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
    RETURNING {_prefixed("f", REFUND_COLUMNS)}
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

OLDEST_DUE_PAYMENT_AGE_S = """
SELECT coalesce(extract(epoch FROM %(now)s - min(next_attempt_at)), 0)::float8 AS age_s
FROM payments WHERE status = 'PENDING' AND next_attempt_at <= %(now)s
"""

COUNT_PAYMENT_RETRIES_SCHEDULED = """
SELECT count(*) AS n FROM payments
WHERE next_attempt_at IS NOT NULL AND status = 'PENDING' AND attempts > 0
"""


# --------------------------------------------------------------------------- running them
def sweep(
    conn: Connection, table: QueuedTable, now: datetime, stale_before: datetime, limit: int
) -> list[str]:
    """Mark due rows enqueued now; the ids to add to the stream."""
    params = {"now": now, "stale_before": stale_before, "limit": limit}
    return [r["id"] for r in conn.execute(table.sweep, params, prepare=False).fetchall()]


def claim(
    conn: Connection, table: QueuedTable, ids: list[str], now: datetime, stale_before: datetime
) -> Rows:
    """Lock and move to PROCESSING the rows of these ids that this handler may run."""
    params = {"ids": ids, "now": now, "stale_before": stale_before}
    return conn.execute(table.claim, params, prepare=False).fetchall()


def finish(conn: Connection, statement: str, columns: dict[str, list[Any]], now: datetime) -> Rows:
    """Write a batch's results; returns the rows actually finished (the CAS held)."""
    return conn.execute(statement, {**columns, "now": now}, prepare=False).fetchall()


def park(conn: Connection, table: QueuedTable, ids: list[str]) -> None:
    """Keep dead-lettered rows out of the sweep."""
    conn.execute(table.park, {"ids": ids}, prepare=False)


def unpark(conn: Connection, table: QueuedTable, ids: list[str], now: datetime) -> list[str]:
    """Return parked rows to the queue; the ids that were parked and are not final."""
    rows = conn.execute(table.unpark, {"ids": ids, "now": now}, prepare=False).fetchall()
    return [r["id"] for r in rows]


def mark_not_enqueued(conn: Connection, table: QueuedTable, object_id: str) -> None:
    conn.execute(table.mark_not_enqueued, {"id": object_id})


def oldest_due_payment_age_s(conn: Connection, now: datetime) -> float:
    """How long the oldest due PENDING payment has waited (the queue lag), in seconds."""
    row = conn.execute(OLDEST_DUE_PAYMENT_AGE_S, {"now": now}).fetchone()
    return float(row["age_s"]) if row else 0.0


def count_payment_retries_scheduled(conn: Connection) -> int:
    row = conn.execute(COUNT_PAYMENT_RETRIES_SCHEDULED).fetchone()
    return int(row["n"]) if row else 0
