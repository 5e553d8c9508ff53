"""SQL for merchants and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

INSERT_MERCHANT = "INSERT INTO merchants (id, name) VALUES (%(id)s, %(name)s)"
INSERT_API_KEY = (
    "INSERT INTO api_keys (id, key_hash, merchant_id, key_prefix)"
    " VALUES (%(id)s, %(key_hash)s, %(merchant_id)s, %(key_prefix)s)"
)
# One hash per keyring version (newest first); at most one of them is stored.
FIND_KEY_BY_HASHES = (
    "SELECT id, merchant_id, key_hash FROM api_keys"
    " WHERE key_hash = ANY(%(key_hashes)s) AND revoked_at IS NULL"
)
LOCK_MERCHANT = "SELECT id FROM merchants WHERE id = %(id)s FOR UPDATE"
COUNT_LIVE_KEYS_FOR_MERCHANT = (
    "SELECT count(*) AS n FROM api_keys WHERE merchant_id = %(merchant_id)s AND revoked_at IS NULL"
)
LIST_KEYS_FOR_MERCHANT = """
SELECT id, key_prefix, created_at, last_used_at, revoked_at FROM api_keys
WHERE merchant_id = %(merchant_id)s ORDER BY created_at, id
"""
REVOKE_KEY = """
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %(id)s
RETURNING id, merchant_id, key_prefix, created_at, last_used_at, revoked_at
"""
# Another process may have written it within the minute: then this writes nothing.
TOUCH_KEY = """
UPDATE api_keys SET last_used_at = %(at)s
WHERE id = %(id)s AND (last_used_at IS NULL OR last_used_at < %(at)s - interval '60 seconds')
"""


def insert_merchant(conn: Connection, merchant_id: str, name: str) -> None:
    conn.execute(INSERT_MERCHANT, {"id": merchant_id, "name": name})


def insert_api_key(
    conn: Connection, key_id: str, key_hash: str, merchant_id: str, key_prefix: str
) -> None:
    conn.execute(
        INSERT_API_KEY,
        {"id": key_id, "key_hash": key_hash, "merchant_id": merchant_id, "key_prefix": key_prefix},
    )


def find_live_key_by_hashes(conn: Connection, key_hashes: list[str]) -> dict[str, Any] | None:
    """The live key stored under any of these hashes (its forms under each version)."""
    return conn.execute(FIND_KEY_BY_HASHES, {"key_hashes": key_hashes}).fetchone()


def lock_merchant(conn: Connection, merchant_id: str) -> bool:
    """Lock the merchant's row for this transaction; False if there is no such merchant."""
    return conn.execute(LOCK_MERCHANT, {"id": merchant_id}).fetchone() is not None


def count_live_keys_for_merchant(conn: Connection, merchant_id: str) -> int:
    row = conn.execute(COUNT_LIVE_KEYS_FOR_MERCHANT, {"merchant_id": merchant_id}).fetchone()
    return int(row["n"]) if row else 0


def list_keys_for_merchant(conn: Connection, merchant_id: str) -> list[dict[str, Any]]:
    return conn.execute(LIST_KEYS_FOR_MERCHANT, {"merchant_id": merchant_id}).fetchall()


def revoke_key(conn: Connection, key_id: str) -> dict[str, Any] | None:
    return conn.execute(REVOKE_KEY, {"id": key_id}).fetchone()


def touch_key(conn: Connection, key_id: str, at: datetime) -> None:
    conn.execute(TOUCH_KEY, {"id": key_id, "at": at})


# --------------------------------------------------------------------------- connectors
SET_CONNECTORS = "UPDATE merchants SET connectors = %(connectors)s WHERE id = %(id)s RETURNING id"
LIST_CONNECTOR_CHOICES = "SELECT id, connectors FROM merchants WHERE connectors IS NOT NULL"


def set_connectors(conn: Connection, merchant_id: str, connectors: list[str] | None) -> bool:
    """Name a merchant's connectors, primary first (None: the stage's default)."""
    row = conn.execute(SET_CONNECTORS, {"id": merchant_id, "connectors": connectors}).fetchone()
    return row is not None


def list_connector_choices(conn: Connection) -> dict[str, list[str]]:
    """Every merchant that names its connectors, with them, primary first."""
    rows = conn.execute(LIST_CONNECTOR_CHOICES).fetchall()
    return {row["id"]: list(row["connectors"]) for row in rows}


# --------------------------------------------------------------------------- key hashes
LIST_UNKEYED_KEY_HASHES = "SELECT id, key_hash FROM api_keys WHERE key_hash NOT LIKE 'hmac-%%'"
SET_KEY_HASH = "UPDATE api_keys SET key_hash = %(new)s WHERE id = %(id)s AND key_hash = %(old)s"


def list_unkeyed_key_hashes(conn: Connection) -> list[dict[str, Any]]:
    """Keys stored before keyed hashing (a bare SHA-256 hex digest)."""
    return conn.execute(LIST_UNKEYED_KEY_HASHES).fetchall()


def set_key_hash(conn: Connection, key_id: str, old: str, new: str) -> None:
    conn.execute(SET_KEY_HASH, {"id": key_id, "old": old, "new": new})
