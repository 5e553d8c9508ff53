"""SQL for refunds: create (reserve + insert), read, list. Statements are named; params bound.

Over-refunding is refused by the database: creating a refund reserves its amount
on the payment with a compare-and-set (`amount_refund_reserved + x <= amount`),
and the CHECK constraint `payments_refunds_within_amount` is the backstop.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

REFUND_COLUMNS = (
    "id, merchant_id, payment_id, amount, currency, status, reason, failure_code, attempts,"
    " connector, created_at, updated_at"
)


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in REFUND_COLUMNS.split(","))


# One statement, one round trip. `locked` takes the payment's row lock (so the
# default amount, "all that is left", is computed from the latest version), then
# `reserved` is the compare-and-set that admits the refund only while the sum of
# PENDING and SUCCESS refunds stays within the amount. The final SELECT always
# returns the payment's state (or no row if the merchant has no such payment), so
# the caller can tell 404, 409 and 400 apart; refund columns are null when refused.
RESERVE_AND_INSERT_FOR_MERCHANT = f"""
WITH locked AS (
    -- A refund takes from what was captured (a manual payment's capture may be partial).
    SELECT id, merchant_id, coalesce(amount_captured, amount) AS amount, currency, status,
           amount_refund_reserved
    FROM payments
    WHERE id = %(payment_id)s AND merchant_id = %(merchant_id)s
    FOR UPDATE
), wanted AS (
    SELECT id, coalesce(%(amount)s::bigint, amount - amount_refund_reserved) AS refund_amount
    FROM locked
), reserved AS (
    UPDATE payments p
    SET amount_refund_reserved = p.amount_refund_reserved + w.refund_amount
    FROM wanted w
    WHERE p.id = w.id AND p.status = 'SUCCESS' AND w.refund_amount >= 1
      AND p.amount_refund_reserved + w.refund_amount <= coalesce(p.amount_captured, p.amount)
    RETURNING p.id, p.merchant_id, p.currency, p.connector, w.refund_amount
), inserted AS (
    -- A refund goes to the acquirer that charged the payment.
    INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status, reason,
                         connector, next_attempt_at, enqueued_at, created_at, updated_at)
    SELECT %(id)s, merchant_id, id, refund_amount, currency, 'PENDING', %(reason)s,
           connector, %(now)s, %(now)s, %(now)s, %(now)s
    FROM reserved
    RETURNING {REFUND_COLUMNS}
)
SELECT l.status AS payment_status, l.amount AS payment_amount,
       l.amount_refund_reserved AS payment_amount_reserved, {_prefixed("i")}
FROM locked l LEFT JOIN inserted i ON true
"""

GET_FOR_MERCHANT = (
    f"SELECT {REFUND_COLUMNS} FROM refunds WHERE id = %(id)s AND merchant_id = %(merchant_id)s"
)

GET_CURSOR_FOR_MERCHANT_PAYMENT = (
    "SELECT created_at, id FROM refunds"
    " WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND payment_id = %(payment_id)s"
)

PAYMENT_EXISTS_FOR_MERCHANT = (
    "SELECT 1 AS found FROM payments WHERE id = %(id)s AND merchant_id = %(merchant_id)s"
)

LIST_FOR_MERCHANT_PAYMENT = f"""
SELECT {REFUND_COLUMNS} FROM refunds
WHERE merchant_id = %(merchant_id)s AND payment_id = %(payment_id)s
  AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) < (%(after_at)s, %(after_id)s))
ORDER BY created_at DESC, id DESC
LIMIT %(limit)s
"""


def reserve_and_insert_for_merchant(
    conn: Connection,
    *,
    refund_id: str,
    payment_id: str,
    merchant_id: str,
    amount: int | None,
    reason: str | None,
    now: datetime,
) -> dict[str, Any] | None:
    """Reserve the amount on the payment and insert a PENDING refund, atomically.

    Returns None when the merchant has no such payment; otherwise a row with the
    payment's `payment_status`, `payment_amount` and `payment_amount_reserved` (as
    they were before this refund) and the refund's columns, which are null when
    the refund was refused (payment not SUCCESS, or not enough left to refund).
    """
    return conn.execute(
        RESERVE_AND_INSERT_FOR_MERCHANT,
        {
            "id": refund_id,
            "payment_id": payment_id,
            "merchant_id": merchant_id,
            "amount": amount,
            "reason": reason,
            "now": now,
        },
    ).fetchone()


def get_refund_for_merchant(
    conn: Connection, refund_id: str, merchant_id: str
) -> dict[str, Any] | None:
    return conn.execute(GET_FOR_MERCHANT, {"id": refund_id, "merchant_id": merchant_id}).fetchone()


def payment_exists_for_merchant(conn: Connection, payment_id: str, merchant_id: str) -> bool:
    row = conn.execute(
        PAYMENT_EXISTS_FOR_MERCHANT, {"id": payment_id, "merchant_id": merchant_id}
    ).fetchone()
    return row is not None


def get_cursor_for_merchant_payment(
    conn: Connection, refund_id: str, merchant_id: str, payment_id: str
) -> tuple[datetime, str] | None:
    row = conn.execute(
        GET_CURSOR_FOR_MERCHANT_PAYMENT,
        {"id": refund_id, "merchant_id": merchant_id, "payment_id": payment_id},
    ).fetchone()
    return (row["created_at"], row["id"]) if row else None


def list_refunds_for_merchant_payment(
    conn: Connection,
    merchant_id: str,
    payment_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
) -> list[dict[str, Any]]:
    """Newest first; fetches `limit` rows (ask for one more to learn `has_more`)."""
    after_at, after_id = after if after is not None else (None, None)
    return conn.execute(
        LIST_FOR_MERCHANT_PAYMENT,
        {
            "merchant_id": merchant_id,
            "payment_id": payment_id,
            "after_at": after_at,
            "after_id": after_id,
            "limit": limit,
        },
    ).fetchall()
