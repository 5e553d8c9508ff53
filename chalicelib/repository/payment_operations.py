"""SQL for captures and voids of authorizations (`payment_operations`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

# One statement: lock the payment (a concurrent capture, void or expiry sweep waits
# here), then insert the operation only while the payment is AUTHORIZED, within its
# amount and, for a capture, before its deadline. The unique index
# `payment_operations_one_per_payment` refuses a second operation that is open or
# succeeded, whoever commits first. The final SELECT always gives the payment's state
# (no row: no such payment), so the caller can tell 404, 409 and 400 apart.
INSERT_FOR_MERCHANT = """
WITH locked AS (
    SELECT id, merchant_id, amount, currency, status, capture_method, capture_before,
           connector, coalesce(charge_key, id) AS charge_key
    FROM payments
    WHERE id = %(payment_id)s AND merchant_id = %(merchant_id)s
    FOR UPDATE
), inserted AS (
    INSERT INTO payment_operations (id, merchant_id, payment_id, type, amount, currency,
                                    reason, status, next_attempt_at, enqueued_at, connector,
                                    charge_key, created_at, updated_at)
    SELECT %(id)s, merchant_id, id, %(type)s, coalesce(%(amount)s::bigint, amount), currency,
           %(reason)s, 'PENDING', %(now)s, %(now)s, connector, charge_key, %(now)s, %(now)s
    FROM locked
    WHERE status = 'AUTHORIZED' AND coalesce(%(amount)s::bigint, amount) <= amount
      AND (%(type)s = 'void' OR capture_before > %(now)s)
    ON CONFLICT (payment_id) WHERE status <> 'FAILED' DO NOTHING
    RETURNING id
)
SELECT l.status, l.amount, l.capture_before, l.capture_method, i.id AS operation_id
FROM locked l LEFT JOIN inserted i ON true
"""

# The operation that holds the payment (open or succeeded), read after a refusal.
FIND_LIVE_FOR_PAYMENT = """
SELECT id, type, status FROM payment_operations
WHERE payment_id = %(payment_id)s AND status <> 'FAILED'
"""

# The expiry sweep: a void (reason `expired`) for each AUTHORIZED payment past its
# deadline that has no open or succeeded operation; SKIP LOCKED, so a payment being
# captured or voided right now is left to that request (its unique index decides).
INSERT_EXPIRY_VOIDS = """
WITH expired AS (
    SELECT p.id, p.merchant_id, p.amount, p.currency, p.connector,
           coalesce(p.charge_key, p.id) AS charge_key
    FROM payments p
    WHERE p.status = 'AUTHORIZED' AND p.capture_before <= %(now)s
      AND NOT EXISTS (SELECT 1 FROM payment_operations o
                      WHERE o.payment_id = p.id AND o.status <> 'FAILED')
    ORDER BY p.capture_before
    LIMIT cardinality(%(ids)s::text[])
    FOR UPDATE OF p SKIP LOCKED
), numbered AS (
    SELECT *, row_number() OVER () AS n FROM expired
)
INSERT INTO payment_operations (id, merchant_id, payment_id, type, amount, currency, reason,
                                status, next_attempt_at, enqueued_at, connector, charge_key,
                                created_at, updated_at)
SELECT (%(ids)s::text[])[e.n], e.merchant_id, e.id, 'void', e.amount,
       e.currency, 'expired', 'PENDING', %(now)s, %(now)s, e.connector, e.charge_key,
       %(now)s, %(now)s
FROM numbered e
ON CONFLICT (payment_id) WHERE status <> 'FAILED' DO NOTHING
RETURNING id
"""


def insert_for_merchant(
    conn: Connection,
    *,
    operation_id: str,
    payment_id: str,
    merchant_id: str,
    type_: str,
    amount: int | None,
    reason: str | None,
    now: datetime,
) -> dict[str, Any] | None:
    """Insert a PENDING capture or void; None if the merchant has no such payment, else
    the payment's state and the new operation's id (None when refused)."""
    return conn.execute(
        INSERT_FOR_MERCHANT,
        {
            "id": operation_id,
            "payment_id": payment_id,
            "merchant_id": merchant_id,
            "type": type_,
            "amount": amount,
            "reason": reason,
            "now": now,
        },
    ).fetchone()


def find_live_for_payment(conn: Connection, payment_id: str) -> dict[str, Any] | None:
    return conn.execute(FIND_LIVE_FOR_PAYMENT, {"payment_id": payment_id}).fetchone()


def insert_expiry_voids(conn: Connection, now: datetime, operation_ids: list[str]) -> list[str]:
    """Queue a void for expired authorizations, one per id given at most; the ids used."""
    rows = conn.execute(INSERT_EXPIRY_VOIDS, {"now": now, "ids": operation_ids}).fetchall()
    return [row["id"] for row in rows]
