"""SQL for payment links. Statements are named; parameters bound."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

# A link's state is derived from its payments: paid once one of them is AUTHORIZED (a
# manual link's) or SUCCESS; closed once a void of such an authorization succeeded
# (the merchant's cancel or the expiry sweep: the payment is then CANCELLED).
LINK_COLUMNS = """
l.id, l.merchant_id, l.amount, l.currency, l.description, l.order_id, l.return_url,
l.expires_at, l.capture_method, l.secret_hash, l.signing_version, l.deactivated_at,
l.created_at, l.updated_at,
(SELECT p.id FROM payments p WHERE p.payment_link_id = l.id
   AND p.status IN ('AUTHORIZED', 'SUCCESS') LIMIT 1) AS payment_id,
EXISTS (SELECT 1 FROM payments p JOIN payment_operations o ON o.payment_id = p.id
   WHERE p.payment_link_id = l.id AND o.type = 'void' AND o.status = 'SUCCESS')
   AS authorization_voided,
(SELECT count(*) FROM payments p WHERE p.payment_link_id = l.id) AS payment_count
"""

# No `secret_hash` for a new link: its client secret is derived from the keyring
# (migration 0014); only links made before keep the hash of their random secret.
INSERT_LINK = """
INSERT INTO payment_links (id, merchant_id, amount, currency, description, order_id,
                           return_url, expires_at, capture_method, signing_version,
                           created_at, updated_at)
VALUES (%(id)s, %(merchant_id)s, %(amount)s, %(currency)s, %(description)s, %(order_id)s,
        %(return_url)s, %(expires_at)s, %(capture_method)s, %(signing_version)s,
        %(now)s, %(now)s)
"""

GET_LINK = f"SELECT {LINK_COLUMNS} FROM payment_links l WHERE l.id = %(id)s"

GET_LINK_WITH_MERCHANT = f"""
SELECT {LINK_COLUMNS}, m.name AS merchant_name
FROM payment_links l JOIN merchants m ON m.id = l.merchant_id
WHERE l.id = %(id)s
"""
# A confirm holds the link against a concurrent deactivation until it commits: a
# deactivation that commits first is seen, one that comes later waits for the payment.
LOCK_LINK_WITH_MERCHANT = GET_LINK_WITH_MERCHANT + "FOR SHARE OF l\n"

GET_CURSOR = (
    "SELECT created_at, id FROM payment_links WHERE id = %(id)s AND merchant_id = %(merchant_id)s"
)

DEACTIVATE = """
UPDATE payment_links
SET deactivated_at = coalesce(deactivated_at, %(now)s), updated_at = %(now)s
WHERE id = %(id)s AND merchant_id = %(merchant_id)s
RETURNING id
"""

LATEST_PAYMENT = """
SELECT id, status, amount, currency, method, card, vpa, failure_code, failure_message
FROM payments WHERE payment_link_id = %(id)s
ORDER BY created_at DESC, id DESC LIMIT 1
"""

GET_CARD_DATA = "SELECT card_data FROM merchants WHERE id = %(id)s"
SET_CARD_DATA = "UPDATE merchants SET card_data = %(card_data)s WHERE id = %(id)s RETURNING id"


def insert_link(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(INSERT_LINK, row)


def get_link(conn: Connection, link_id: str) -> dict[str, Any] | None:
    return conn.execute(GET_LINK, {"id": link_id}).fetchone()


def get_link_with_merchant(
    conn: Connection, link_id: str, lock: bool = False
) -> dict[str, Any] | None:
    sql = LOCK_LINK_WITH_MERCHANT if lock else GET_LINK_WITH_MERCHANT
    return conn.execute(sql, {"id": link_id}).fetchone()


def get_cursor_for_merchant(
    conn: Connection, link_id: str, merchant_id: str
) -> tuple[datetime, str] | None:
    row = conn.execute(GET_CURSOR, {"id": link_id, "merchant_id": merchant_id}).fetchone()
    return (row["created_at"], row["id"]) if row else None


def list_links_for_merchant(
    conn: Connection, merchant_id: str, *, limit: int, after: tuple[datetime, str] | None
) -> list[dict[str, Any]]:
    """Newest first; fetches `limit` rows (ask for one more to learn `has_more`)."""
    clauses = ["l.merchant_id = %(merchant_id)s"]
    params: dict[str, Any] = {"merchant_id": merchant_id, "limit": limit}
    if after is not None:
        clauses.append("(l.created_at, l.id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    sql = (
        f"SELECT {LINK_COLUMNS} FROM payment_links l WHERE {' AND '.join(clauses)}"
        " ORDER BY l.created_at DESC, l.id DESC LIMIT %(limit)s"
    )
    return conn.execute(sql, params).fetchall()


def deactivate(conn: Connection, link_id: str, merchant_id: str, now: datetime) -> bool:
    row = conn.execute(DEACTIVATE, {"id": link_id, "merchant_id": merchant_id, "now": now})
    return row.fetchone() is not None


def latest_payment(conn: Connection, link_id: str) -> dict[str, Any] | None:
    return conn.execute(LATEST_PAYMENT, {"id": link_id}).fetchone()


def get_card_data(conn: Connection, merchant_id: str) -> str:
    row = conn.execute(GET_CARD_DATA, {"id": merchant_id}).fetchone()
    return str(row["card_data"]) if row else "raw_allowed"


def set_card_data(conn: Connection, merchant_id: str, card_data: str) -> bool:
    row = conn.execute(SET_CARD_DATA, {"id": merchant_id, "card_data": card_data})
    return row.fetchone() is not None
