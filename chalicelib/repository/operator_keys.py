"""SQL for operator keys (migration 0009)."""

from __future__ import annotations

from typing import Any

from chalicelib.db import Connection

INSERT_OPERATOR_KEY = (
    "INSERT INTO operator_keys (key_hash, operator_id, name, key_prefix)"
    " VALUES (%(key_hash)s, %(operator_id)s, %(name)s, %(key_prefix)s)"
)
# One hash per keyring version (newest first); at most one of them is stored.
FIND_OPERATOR_BY_KEY_HASHES = (
    "SELECT operator_id, key_hash FROM operator_keys"
    " WHERE key_hash = ANY(%(key_hashes)s) AND revoked_at IS NULL"
)
# Compare-and-set: a key rehashed (or revoked) meanwhile is left as it is.
SET_OPERATOR_KEY_HASH = (
    "UPDATE operator_keys SET key_hash = %(new)s"
    " WHERE operator_id = %(operator_id)s AND key_hash = %(old)s"
)
REVOKE_OPERATOR_KEY = """
UPDATE operator_keys SET revoked_at = coalesce(revoked_at, now())
WHERE operator_id = %(operator_id)s
RETURNING operator_id, name, key_prefix, created_at, revoked_at
"""
LIST_OPERATOR_KEYS = """
SELECT operator_id, name, key_prefix, created_at, revoked_at FROM operator_keys
ORDER BY created_at, operator_id
"""


def insert_operator_key(
    conn: Connection, key_hash: str, operator_id: str, name: str, key_prefix: str
) -> None:
    conn.execute(
        INSERT_OPERATOR_KEY,
        {"key_hash": key_hash, "operator_id": operator_id, "name": name, "key_prefix": key_prefix},
    )


def find_live_operator_by_key_hashes(
    conn: Connection, key_hashes: list[str]
) -> dict[str, Any] | None:
    """The live operator key stored under any of these hashes: operator_id, key_hash."""
    return conn.execute(FIND_OPERATOR_BY_KEY_HASHES, {"key_hashes": key_hashes}).fetchone()


def set_operator_key_hash(conn: Connection, operator_id: str, old: str, new: str) -> None:
    conn.execute(SET_OPERATOR_KEY_HASH, {"operator_id": operator_id, "old": old, "new": new})


def revoke_operator_key(conn: Connection, operator_id: str) -> dict[str, Any] | None:
    """Revoke (idempotent); None when there is no such operator."""
    return conn.execute(REVOKE_OPERATOR_KEY, {"operator_id": operator_id}).fetchone()


def list_operator_keys(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(LIST_OPERATOR_KEYS).fetchall()
