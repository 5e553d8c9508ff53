"""Every SQL statement of the queue, generated once per queued table at import.

A queued table (payments, refunds) has `status`, `attempts`, `next_attempt_at`,
`enqueued_at` and `processing_started_at`. CHECK constraints keep `next_attempt_at`
set exactly while a row is open (PENDING or PROCESSING) and `processing_started_at`
exactly while it is PROCESSING; one partial index holds the open rows by
`next_attempt_at` (migration 0005). No index reads a column a claim writes, so a
claim is a heap-only update.

Per table (`QueuedTable`): sweep, claim, park, unpark, mark-not-enqueued. Each
kind's finish statement, which writes a whole batch's results with the kind's own
columns, history and totals, is in `finish_sql.py`. Every statement handles a whole batch,
so round trips per batch are constant; the ones over 1,000-element arrays run
unprepared (`prepare=False`) so that Postgres always plans them for their input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.db import Connection

Rows = list[dict[str, Any]]


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
    table: str,
    claim_returning: str,
    *,
    claim_sets: str = "",
    claimable_columns: str = "",
    claim_filter: str = "",
    claim_ctes: str = "",
    claim_joins: str = "",
    claim_history: str = "",
    sweep_filter: str = "",
) -> QueuedTable:
    """Generate the statements of one table (constant SQL fragments, never user input)."""
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
      AND (status = 'PENDING' OR processing_started_at < %(stale_before)s){sweep_filter}
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
    SELECT id, merchant_id, status AS previous_status{claimable_columns} FROM {table}
    WHERE id = ANY(%(ids)b::text[])
      AND enqueued_at IS DISTINCT FROM 'infinity'  -- parked (dead-lettered)
      AND ((status = 'PENDING' AND next_attempt_at <= %(now)s)
        OR (status = 'PROCESSING' AND processing_started_at < %(stale_before)s)){claim_filter}
    FOR UPDATE SKIP LOCKED
){claim_ctes}, moved AS (
    UPDATE {table} t
    SET status = 'PROCESSING',
        attempts = CASE WHEN c.previous_status = 'PENDING' THEN t.attempts + 1
                        ELSE t.attempts END,
        processing_started_at = %(now)s{claim_sets}
    FROM claimable c{claim_joins}
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


# A row whose last attempt's outcome is unknown waits for its inquiry: no claim
# takes it (its `next_attempt_at` is 9999-12-31, so no sweep does either).
_NOT_UNKNOWN = "\n      AND outcome_unknown_since IS NULL"

# Payments are routed at the claim: a fresh attempt (from PENDING) goes to the
# connector the router chose for its merchant (`routes`, else the default); a
# re-claim of a dead handler's attempt keeps its connector, which may have charged.
PAYMENTS = queued_table(
    "payments",
    "t.id, t.merchant_id, t.amount, t.currency, t.method, t.vpa, t.bank, t.wallet, "
    "t.method_token, t.connector, coalesce(t.charge_key, t.id) AS charge_key, "
    "t.capture_method",
    claim_filter=_NOT_UNKNOWN,
    claim_ctes="""
, routes AS (
    SELECT * FROM unnest(%(route_merchants)b::text[], %(route_connectors)b::text[])
        AS rt(merchant_id, connector)
)""",
    claim_joins=" LEFT JOIN routes rt ON rt.merchant_id = c.merchant_id",
    claim_sets=""",
        updated_at = %(now)s,
        connector = CASE WHEN c.previous_status = 'PENDING' OR t.connector IS NULL
                         THEN coalesce(rt.connector, %(default_connector)s)
                         ELSE t.connector END""",
    claim_history="""
, history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status)
    SELECT id, %(now)s, 'PENDING', 'PROCESSING' FROM moved WHERE previous_status = 'PENDING'
)""",
)

# Refunds go to their payment's connector, copied when the refund was created, and
# name the charge by the key it was made under (its payment's charge key).
REFUNDS = queued_table(
    "refunds",
    "t.id, t.merchant_id, t.payment_id, t.amount, t.currency, t.connector, "
    "coalesce(p.charge_key, p.id) AS charge_key",
    claim_filter=_NOT_UNKNOWN,
    claimable_columns=", payment_id",
    claim_joins=" JOIN payments p ON p.id = c.payment_id",
)

# Captures and voids of authorizations go to the payment's connector, under the key
# the authorization was made under (both copied when the operation was created). An
# unknown outcome keeps its row PROCESSING, and it is claimed again (as a dead
# handler's row) once due: that claim settles it (`Connector.settle_operation`).
OPERATIONS = queued_table(
    "payment_operations",
    "t.id, t.merchant_id, t.payment_id, t.type, t.amount, t.currency, t.reason, "
    "t.connector, t.charge_key, t.outcome_unknown_since",
)

# Inquiries into unknown outcomes: one table, one kind (and stream) per object type.
_INQUIRY_RETURNING = (
    "t.id, t.merchant_id, t.object_id, t.connector, t.attempt AS object_attempt, "
    "t.first_unknown_at, t.flagged_at, coalesce(t.idempotency_key, t.object_id) AS object_key, "
    "t.void_required"
)
PAYMENT_INQUIRIES = queued_table(
    "inquiries", _INQUIRY_RETURNING, sweep_filter="\n      AND object_type = 'payment'"
)
REFUND_INQUIRIES = queued_table(
    "inquiries", _INQUIRY_RETURNING, sweep_filter="\n      AND object_type = 'refund'"
)


OLDEST_DUE_PAYMENT_AGE_S = """
SELECT coalesce(extract(epoch FROM %(now)s - min(next_attempt_at)), 0)::float8 AS age_s
FROM payments WHERE status = 'PENDING' AND next_attempt_at <= %(now)s
"""

# Open inquiries (attempts whose outcome is unknown), and those flagged for the
# operator because the acquirer has not answered them for too long.
COUNT_OPEN_INQUIRIES = """
SELECT object_type, count(*) AS open, count(*) FILTER (WHERE flagged_at IS NOT NULL) AS flagged
FROM inquiries WHERE next_attempt_at IS NOT NULL GROUP BY object_type
"""

# Captures and voids whose last answer was lost, waiting to be settled at their connector.
COUNT_UNKNOWN_OPERATIONS = """
SELECT count(*) AS n FROM payment_operations WHERE outcome_unknown_since IS NOT NULL
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
    conn: Connection,
    table: QueuedTable,
    ids: list[str],
    now: datetime,
    stale_before: datetime,
    routes: dict[str, Any] | None = None,
) -> Rows:
    """Lock and move to PROCESSING the rows of these ids that this handler may run.

    `routes` (payments only): `route_merchants`, `route_connectors` and
    `default_connector`, the router's choice for this batch.
    """
    if routes is None:  # no router's choice: every fresh attempt to the stage's primary
        from chalicelib import settings

        primary = settings.get_settings().connectors[0]
        routes = {"route_merchants": [], "route_connectors": [], "default_connector": primary}
    params = {"ids": ids, "now": now, "stale_before": stale_before, **routes}
    return conn.execute(table.claim, params, prepare=False).fetchall()


def finish(conn: Connection, statement: str, columns: dict[str, list[Any]], now: datetime) -> Rows:
    """Write a batch's results; returns the rows actually finished (the CAS held).

    An authorization made by the finish (manual capture) lasts AUTHORIZATION_TTL_S."""
    from chalicelib import settings

    ttl_s = settings.get_settings().authorization_ttl_s
    params = {**columns, "now": now, "authorization_ttl_s": ttl_s}
    return conn.execute(statement, params, prepare=False).fetchall()


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


def count_unknown_operations(conn: Connection) -> int:
    row = conn.execute(COUNT_UNKNOWN_OPERATIONS).fetchone()
    return int(row["n"]) if row else 0


def count_open_inquiries(conn: Connection) -> dict[str, dict[str, int]]:
    """{object_type: {"open": n, "flagged": m}} for payments and refunds."""
    counts = {"payment": {"open": 0, "flagged": 0}, "refund": {"open": 0, "flagged": 0}}
    for row in conn.execute(COUNT_OPEN_INQUIRIES).fetchall():
        counts[row["object_type"]] = {"open": int(row["open"]), "flagged": int(row["flagged"])}
    return counts
