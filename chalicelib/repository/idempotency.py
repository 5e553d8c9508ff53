"""SQL for idempotency records (one per merchant and key)."""

from __future__ import annotations

from typing import Any

from chalicelib.db import Connection

#: Lock, check and clear the key (chalicelib/migrations/0007_idempotency_claim.sql): raises
#: SQLSTATE CLAIM_IN_USE or CLAIM_RECORDED when the request must not proceed, so the
#: statements pipelined after it are skipped by the server.
CLAIM_KEY = "SELECT claim_idempotency_key(%(merchant_id)s, %(key)s, %(ttl_s)s)"
CLAIM_IN_USE = "GWK09"
CLAIM_RECORDED = "GWK00"
FIND_BY_MERCHANT_ID_KEY = (
    "SELECT request_hash, response_status, response_headers, response_body"
    " FROM idempotency_keys WHERE merchant_id = %(merchant_id)s AND key = %(key)s"
    " AND created_at > now() - make_interval(secs => %(ttl_s)s)"
)
INSERT_RECORD = (
    "INSERT INTO idempotency_keys"
    " (merchant_id, key, request_hash, response_status, response_headers, response_body)"
    " VALUES (%(merchant_id)s, %(key)s, %(request_hash)s, %(status)s, %(headers)s, %(body)s)"
)
# Compare-and-set: a fingerprint rehashed under a newer key version by another replay
# meanwhile is left as it is.
SET_REQUEST_HASH = (
    "UPDATE idempotency_keys SET request_hash = %(new)s"
    " WHERE merchant_id = %(merchant_id)s AND key = %(key)s AND request_hash = %(old)s"
)
DELETE_OLDER_THAN = (
    "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
    " WHERE created_at < now() - make_interval(secs => %(ttl_s)s) LIMIT %(limit)s)"
)


def send_claim(conn: Connection, merchant_id: str, key: str, ttl_s: float) -> None:
    """Claim the key in the caller's transaction. In pipeline mode this does not wait:
    a refusal is raised (SQLSTATE CLAIM_IN_USE / CLAIM_RECORDED) at the next fetch."""
    conn.execute(CLAIM_KEY, {"merchant_id": merchant_id, "key": key, "ttl_s": ttl_s})


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
    """Store the first answer (the claim removed any expired record of the key)."""
    from psycopg.types.json import Jsonb  # lazy, as in db

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


def set_request_hash(conn: Connection, merchant_id: str, key: str, old: str, new: str) -> None:
    """Store a record's fingerprint under the newest key version."""
    conn.execute(SET_REQUEST_HASH, {"merchant_id": merchant_id, "key": key, "old": old, "new": new})


def delete_older_than(conn: Connection, ttl_s: float, limit: int) -> int:
    """Prune records past their time to live; returns how many were removed."""
    return conn.execute(DELETE_OLDER_THAN, {"ttl_s": ttl_s, "limit": limit}).rowcount
