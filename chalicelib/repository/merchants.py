"""SQL for merchants and their API keys."""

from __future__ import annotations

from chalicelib.db import Connection

INSERT_MERCHANT = "INSERT INTO merchants (id, name) VALUES (%(id)s, %(name)s)"
INSERT_API_KEY = (
    "INSERT INTO api_keys (key_hash, merchant_id, key_prefix)"
    " VALUES (%(key_hash)s, %(merchant_id)s, %(key_prefix)s)"
)
FIND_MERCHANT_BY_KEY_HASH = (
    "SELECT merchant_id FROM api_keys WHERE key_hash = %(key_hash)s AND revoked_at IS NULL"
)


def insert_merchant(conn: Connection, merchant_id: str, name: str) -> None:
    conn.execute(INSERT_MERCHANT, {"id": merchant_id, "name": name})


def insert_api_key(conn: Connection, key_hash: str, merchant_id: str, key_prefix: str) -> None:
    conn.execute(
        INSERT_API_KEY,
        {"key_hash": key_hash, "merchant_id": merchant_id, "key_prefix": key_prefix},
    )


def find_merchant_id_by_key_hash(conn: Connection, key_hash: str) -> str | None:
    row = conn.execute(FIND_MERCHANT_BY_KEY_HASH, {"key_hash": key_hash}).fetchone()
    return row["merchant_id"] if row else None


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
