"""SQL for webhook endpoints' signing secrets: sealed (KMS), rotated, and the plaintext
secrets of endpoints made before migration 0008 sealed by the operator command."""

from __future__ import annotations

from typing import Any

from chalicelib.db import Connection
from chalicelib.repository.webhooks import ENDPOINT_COLUMNS

LOCK_LIVE_ENDPOINT_FOR_MERCHANT = """
SELECT id, merchant_id, secret, secret_sealed FROM webhook_endpoints
WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND deleted_at IS NULL
FOR UPDATE
"""

# The new secret signs from now on; the old one beside it until `previous_until`.
ROTATE_SECRET = f"""
UPDATE webhook_endpoints
SET secret_sealed = %(secret_sealed)s, secret = NULL,
    previous_secret_sealed = %(previous_sealed)s, previous_secret_expires_at = %(previous_until)s
WHERE id = %(id)s
RETURNING {ENDPOINT_COLUMNS}
"""

LIST_PLAINTEXT_SECRETS = """
SELECT id, merchant_id, secret FROM webhook_endpoints
WHERE secret IS NOT NULL AND secret_sealed IS NULL
ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""

STORE_SEALED = (
    "UPDATE webhook_endpoints SET secret_sealed = %(secret_sealed)s, secret = NULL"
    " WHERE id = %(id)s"
)


def lock_live_endpoint_for_merchant(
    conn: Connection, endpoint_id: str, merchant_id: str
) -> dict[str, Any] | None:
    return conn.execute(
        LOCK_LIVE_ENDPOINT_FOR_MERCHANT, {"id": endpoint_id, "merchant_id": merchant_id}
    ).fetchone()


def rotate_secret(conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """`row`: id, secret_sealed, previous_sealed, previous_until."""
    result = conn.execute(ROTATE_SECRET, row).fetchone()
    assert result is not None
    return result


def list_plaintext_secrets(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Endpoints made before 0008 whose secret is still in the clear (locked)."""
    return conn.execute(LIST_PLAINTEXT_SECRETS, {"limit": limit}).fetchall()


def seal_secret(conn: Connection, endpoint_id: str, sealed: Any) -> None:
    conn.execute(STORE_SEALED, {"id": endpoint_id, "secret_sealed": sealed})
