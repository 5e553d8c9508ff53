"""SQL for webhook endpoints, the event log and delivery attempts.

Statements are named; parameters are always bound. Function names carry the key
and the tenant (`..._for_merchant`); the delivery handler's statements are not
per tenant because the handler works across merchants.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

ENDPOINT_COLUMNS = "id, merchant_id, url, events, status, created_at, deleted_at"
EVENT_COLUMNS = "id, merchant_id, type, data, created_at"

# ----------------------------------------------------------------------- endpoints
INSERT_ENDPOINT = f"""
INSERT INTO webhook_endpoints (id, merchant_id, url, events, secret_sealed, status, created_at)
VALUES (%(id)s, %(merchant_id)s, %(url)s, %(events)s, %(secret_sealed)s, 'enabled', %(now)s)
RETURNING {ENDPOINT_COLUMNS}
"""

GET_LIVE_ENDPOINT_FOR_MERCHANT = f"""
SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND deleted_at IS NULL
"""

GET_LIVE_ENDPOINT_CURSOR_FOR_MERCHANT = """
SELECT created_at, id FROM webhook_endpoints
WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND deleted_at IS NULL
"""

LIST_LIVE_ENDPOINTS_FOR_MERCHANT = f"""
SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
WHERE merchant_id = %(merchant_id)s AND deleted_at IS NULL
  AND (%(after_id)s::text IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""

# Soft delete; the endpoint's deliveries still waiting for a retry end as failed, so
# nothing more is sent to it (a delivery in flight records its attempt and stops).
SOFT_DELETE_ENDPOINT_FOR_MERCHANT = f"""
WITH deleted AS (
    UPDATE webhook_endpoints
    SET status = 'disabled', deleted_at = %(now)s
    WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND deleted_at IS NULL
    RETURNING {ENDPOINT_COLUMNS}
), stopped AS (
    UPDATE webhook_deliveries d
    SET status = 'failed', next_attempt_at = NULL, locked_until = NULL, updated_at = %(now)s
    FROM deleted
    WHERE d.endpoint_id = deleted.id AND d.status = 'pending'
)
SELECT {ENDPOINT_COLUMNS} FROM deleted
"""

# -------------------------------------------------------------------------- events
GET_EVENT_FOR_MERCHANT = f"""
SELECT {EVENT_COLUMNS} FROM events WHERE id = %(id)s AND merchant_id = %(merchant_id)s
"""

GET_EVENT_CURSOR_FOR_MERCHANT = """
SELECT created_at, id FROM events WHERE id = %(id)s AND merchant_id = %(merchant_id)s
"""

LIST_EVENTS_FOR_MERCHANT = f"""
SELECT {EVENT_COLUMNS} FROM events
WHERE merchant_id = %(merchant_id)s
  AND (%(type)s::text IS NULL OR type = %(type)s)
  AND (%(after_id)s::text IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""

# Every recorded attempt, then the attempt each still-pending delivery has coming
# (in flight: the claimed attempt at its claim time; otherwise the next one when due).
LIST_ATTEMPTS_FOR_EVENT = """
SELECT d.endpoint_id, a.attempt, a.status, a.response_status, a.error, a.duration_ms, a.at,
       d.id AS delivery_id, 0 AS pending_rank
FROM webhook_delivery_attempts a
JOIN webhook_deliveries d ON d.id = a.delivery_id
WHERE d.event_id = %(event_id)s
UNION ALL
SELECT d.endpoint_id,
       CASE WHEN d.locked_until IS NULL THEN d.attempts + 1 ELSE d.attempts END,
       'pending', NULL, NULL, NULL,
       CASE WHEN d.locked_until IS NULL THEN d.next_attempt_at ELSE d.updated_at END,
       d.id, 1
FROM webhook_deliveries d
WHERE d.event_id = %(event_id)s AND d.status = 'pending'
ORDER BY pending_rank, at, delivery_id, attempt
"""

# A delivery that failed for good gets exactly one more attempt, due now.
REDELIVER_FAILED_FOR_EVENT = """
UPDATE webhook_deliveries d
SET status = 'pending', attempt_limit = d.attempts + 1, next_attempt_at = %(now)s,
    locked_until = NULL, updated_at = %(now)s
FROM webhook_endpoints w
WHERE d.event_id = %(event_id)s AND d.status = 'failed'
  AND w.id = d.endpoint_id AND w.deleted_at IS NULL
RETURNING d.id
"""

# ------------------------------------------------------------------------ delivery
# Claim due deliveries with a lease: the attempt is counted now and the row is not
# due again until the lease ends, so a handler that dies mid-flight loses nothing.
# Due deliveries, oldest first, at most `cap` minus what is in flight per endpoint.
# The ids within the cap go into one array, then the rows are found by id: a join could
# be planned as a nested loop of every due row against every other (test_webhook_claim).
CLAIM_DUE_DELIVERIES = """
WITH candidates AS (
    SELECT d.id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at)
           + coalesce(b.n, 0) AS slot
    FROM webhook_deliveries d
    LEFT JOIN unnest(%(busy_ids)s::text[], %(busy_counts)s::int[]) AS b(endpoint_id, n)
           ON b.endpoint_id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
      AND d.attempts < coalesce(d.attempt_limit, %(max_attempts)s)
), due AS (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.id = ANY (ARRAY(SELECT c.id FROM candidates c WHERE c.slot <= %(cap)s))
      AND d.status = 'pending' AND d.next_attempt_at <= %(now)s
      AND d.attempts < coalesce(d.attempt_limit, %(max_attempts)s)
    ORDER BY d.next_attempt_at
    LIMIT %(limit)s
    FOR UPDATE OF d SKIP LOCKED
), claimed AS (
    UPDATE webhook_deliveries d
    SET attempts = d.attempts + 1, locked_until = %(lease_until)s,
        next_attempt_at = %(lease_until)s, updated_at = %(now)s
    FROM due
    WHERE d.id = due.id
    RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.attempt_limit
)
SELECT c.id AS delivery_id, c.event_id, c.endpoint_id, c.attempts AS attempt, c.attempt_limit,
       e.type, e.data, e.created_at AS event_created_at, w.url, w.merchant_id, w.secret,
       w.secret_sealed, w.previous_secret_sealed, w.previous_secret_expires_at
FROM claimed c
JOIN events e ON e.id = c.event_id
JOIN webhook_endpoints w ON w.id = c.endpoint_id
"""

# A delivery whose last allowed attempt was leased and never recorded (its handler
# died) is due again when the lease ends: it has had every attempt, so it ends.
END_EXHAUSTED_DELIVERIES = """
UPDATE webhook_deliveries d
SET status = 'failed', next_attempt_at = NULL, locked_until = NULL, updated_at = %(now)s
WHERE d.status = 'pending' AND d.next_attempt_at <= %(now)s
  AND d.attempts >= coalesce(d.attempt_limit, %(max_attempts)s)
"""

# Record the attempts and settle each delivery, compare-and-set on the attempt number:
# a row whose lease expired and was claimed again is left to its new owner.
RECORD_ATTEMPTS = """
WITH input AS (
    SELECT *
    FROM unnest(%(delivery_ids)b::bigint[], %(attempts)b::int[], %(statuses)b::text[],
                %(response_statuses)b::int[], %(bodies)b::text[], %(errors)b::text[],
                %(durations)b::int[], %(ats)b::timestamptz[], %(delivery_statuses)b::text[],
                %(next_attempt_ats)b::timestamptz[])
        AS i(delivery_id, attempt, status, response_status, response_body, error,
             duration_ms, at, delivery_status, next_attempt_at)
), recorded AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, attempt, status, response_status,
                                           response_body, error, duration_ms, at)
    SELECT delivery_id, attempt, status, response_status, response_body, error, duration_ms, at
    FROM input
)
UPDATE webhook_deliveries d
SET status = i.delivery_status, next_attempt_at = i.next_attempt_at, locked_until = NULL,
    updated_at = %(now)s
FROM input i
WHERE d.id = i.delivery_id AND d.attempts = i.attempt AND d.status = 'pending'
RETURNING d.id, d.status
"""


def insert_endpoint(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """Insert an enabled endpoint; `row` has id, merchant_id, url, events, secret, now."""
    result = conn.execute(INSERT_ENDPOINT, row).fetchone()
    assert result is not None
    return result


def get_live_endpoint_for_merchant(
    conn: Connection, endpoint_id: str, merchant_id: str
) -> dict[str, Any] | None:
    """The merchant's endpoint if it is not deleted, else None."""
    return conn.execute(
        GET_LIVE_ENDPOINT_FOR_MERCHANT, {"id": endpoint_id, "merchant_id": merchant_id}
    ).fetchone()


def get_live_endpoint_cursor_for_merchant(
    conn: Connection, endpoint_id: str, merchant_id: str
) -> tuple[datetime, str] | None:
    row = conn.execute(
        GET_LIVE_ENDPOINT_CURSOR_FOR_MERCHANT, {"id": endpoint_id, "merchant_id": merchant_id}
    ).fetchone()
    return (row["created_at"], row["id"]) if row else None


def list_live_endpoints_for_merchant(
    conn: Connection, merchant_id: str, *, limit: int, after: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    """Endpoints not deleted, newest first; fetches `limit` rows."""
    after_at, after_id = after if after else (None, None)
    return conn.execute(
        LIST_LIVE_ENDPOINTS_FOR_MERCHANT,
        {"merchant_id": merchant_id, "limit": limit, "after_at": after_at, "after_id": after_id},
    ).fetchall()


def soft_delete_endpoint_for_merchant(
    conn: Connection, endpoint_id: str, merchant_id: str, now: datetime
) -> dict[str, Any] | None:
    """Disable and mark deleted; None when there is no such live endpoint."""
    return conn.execute(
        SOFT_DELETE_ENDPOINT_FOR_MERCHANT,
        {"id": endpoint_id, "merchant_id": merchant_id, "now": now},
    ).fetchone()


def get_event_for_merchant(
    conn: Connection, event_id: str, merchant_id: str
) -> dict[str, Any] | None:
    return conn.execute(
        GET_EVENT_FOR_MERCHANT, {"id": event_id, "merchant_id": merchant_id}
    ).fetchone()


def get_event_cursor_for_merchant(
    conn: Connection, event_id: str, merchant_id: str
) -> tuple[datetime, str] | None:
    row = conn.execute(
        GET_EVENT_CURSOR_FOR_MERCHANT, {"id": event_id, "merchant_id": merchant_id}
    ).fetchone()
    return (row["created_at"], row["id"]) if row else None


def list_events_for_merchant(
    conn: Connection,
    merchant_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    event_type: str | None,
) -> list[dict[str, Any]]:
    """Events newest first, optionally of one type; fetches `limit` rows."""
    after_at, after_id = after if after else (None, None)
    return conn.execute(
        LIST_EVENTS_FOR_MERCHANT,
        {
            "merchant_id": merchant_id,
            "type": event_type,
            "limit": limit,
            "after_at": after_at,
            "after_id": after_id,
        },
    ).fetchall()


def list_attempts_for_event(conn: Connection, event_id: str) -> list[dict[str, Any]]:
    """Attempts of every delivery of the event, oldest first, then the pending ones."""
    return conn.execute(LIST_ATTEMPTS_FOR_EVENT, {"event_id": event_id}).fetchall()


def redeliver_failed_for_event(conn: Connection, event_id: str, now: datetime) -> int:
    """Give each delivery of the event that failed for good one more attempt; how many."""
    return len(
        conn.execute(REDELIVER_FAILED_FOR_EVENT, {"event_id": event_id, "now": now}).fetchall()
    )


def claim_due_deliveries(
    conn: Connection,
    now: datetime,
    lease_until: datetime,
    limit: int,
    *,
    max_attempts: int,
    per_endpoint_cap: int = 1_000_000,
    in_flight: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Lock and lease up to `limit` due deliveries, with their event and endpoint; an
    endpoint gets at most `per_endpoint_cap` minus its sends `in_flight`. A delivery
    that has had `max_attempts` (or its own `attempt_limit`) is never claimed again."""
    busy = in_flight or {}
    return conn.execute(
        CLAIM_DUE_DELIVERIES,
        {
            "now": now,
            "max_attempts": max_attempts,
            "lease_until": lease_until,
            "limit": limit,
            "cap": per_endpoint_cap,
            "busy_ids": list(busy),
            "busy_counts": list(busy.values()),
        },
        prepare=False,
    ).fetchall()


def end_exhausted_deliveries(conn: Connection, now: datetime, max_attempts: int) -> int:
    """Fail the due deliveries that have had every attempt; how many."""
    cur = conn.execute(END_EXHAUSTED_DELIVERIES, {"now": now, "max_attempts": max_attempts})
    return cur.rowcount


def record_attempts(
    conn: Connection, columns: dict[str, list[Any]], now: datetime
) -> list[dict[str, Any]]:
    """Insert attempts and settle their deliveries in one statement; the rows settled."""
    return conn.execute(RECORD_ATTEMPTS, {**columns, "now": now}, prepare=False).fetchall()
