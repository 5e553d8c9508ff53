"""SQL for idempotency records (one per merchant and key)."""

from __future__ import annotations

from typing import Any

from chalicelib.db import Connection

TRY_LOCK_KEY = (
    "SELECT pg_try_advisory_xact_lock(hashtextextended(%(merchant_id)s || ':' || %(key)s, 7))"
    " AS locked"
)
FIND_BY_MERCHANT_ID_KEY = (
    "SELECT request_hash, response_status, response_headers, response_body"
    " FROM idempotency_keys WHERE merchant_id = %(merchant_id)s AND key = %(key)s"
    " AND created_at > now() - make_interval(secs => %(ttl_s)s)"
)
DELETE_EXPIRED_FOR_MERCHANT_ID_KEY = (
    "DELETE FROM idempotency_keys WHERE merchant_id = %(merchant_id)s AND key = %(key)s"
)
INSERT_RECORD = (
    "INSERT INTO idempotency_keys"
    " (merchant_id, key, request_hash, response_status, response_headers, response_body)"
    " VALUES (%(merchant_id)s, %(key)s, %(request_hash)s, %(status)s, %(headers)s, %(body)s)"
)
DELETE_OLDER_THAN = (
    "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
    " WHERE created_at < now() - make_interval(secs => %(ttl_s)s) LIMIT %(limit)s)"
)


def try_lock_key(conn: Connection, merchant_id: str, key: str) -> bool:
    """Take the key's transaction-scoped lock if no other request holds it."""
    row = conn.execute(TRY_LOCK_KEY, {"merchant_id": merchant_id, "key": key}).fetchone()
    return bool(row and row["locked"])


def find_by_merchant_id_key(
    conn: Connection, merchant_id: str, key: str, ttl_s: float
) -> dict[str, Any] | None:
    return conn.execute(
        FIND_BY_MERCHANT_ID_KEY, {"merchant_id": merchant_id, "key": key, "ttl_s": ttl_s}
    ).fetchone()


def insert_record(
    conn: Connection,
    merchant_id: str,
    key: str,
    request_hash: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    from psycopg.types.json import Jsonb  # lazy, as in db

    # An expired record of the same key may still be there until pruned.
    conn.execute(DELETE_EXPIRED_FOR_MERCHANT_ID_KEY, {"merchant_id": merchant_id, "key": key})
    conn.execute(
        INSERT_RECORD,
        {
            "merchant_id": merchant_id,
            "key": key,
            "request_hash": request_hash,
            "status": status,
            "headers": Jsonb(headers),
            "body": body,
        },
    )


def delete_older_than(conn: Connection, ttl_s: float, limit: int) -> int:
    """Prune records past their time to live; returns how many were removed."""
    return conn.execute(DELETE_OLDER_THAN, {"ttl_s": ttl_s, "limit": limit}).rowcount
