"""SQL for operator keys (migration 0007)."""

from __future__ import annotations

from chalicelib.db import Connection

INSERT_OPERATOR_KEY = (
    "INSERT INTO operator_keys (key_hash, operator_id, name, key_prefix)"
    " VALUES (%(key_hash)s, %(operator_id)s, %(name)s, %(key_prefix)s)"
)
FIND_OPERATOR_BY_KEY_HASH = (
    "SELECT operator_id FROM operator_keys WHERE key_hash = %(key_hash)s AND revoked_at IS NULL"
)


def insert_operator_key(
    conn: Connection, key_hash: str, operator_id: str, name: str, key_prefix: str
) -> None:
    conn.execute(
        INSERT_OPERATOR_KEY,
        {"key_hash": key_hash, "operator_id": operator_id, "name": name, "key_prefix": key_prefix},
    )


def find_operator_id_by_key_hash(conn: Connection, key_hash: str) -> str | None:
    row = conn.execute(FIND_OPERATOR_BY_KEY_HASH, {"key_hash": key_hash}).fetchone()
    return row["operator_id"] if row else None
