"""SQL for payments and their status history. Statements are named; parameters bound."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

PAYMENT_COLUMNS = (
    "id, merchant_id, order_id, amount, currency, method, status, vpa, card, bank, wallet,"
    " description, metadata, amount_refunded, amount_refund_reserved, attempts,"
    " next_attempt_at, failure_code, failure_message, connector, outcome_unknown_since,"
    " capture_method, amount_captured, capture_before, cancellation_reason,"
    " created_at, updated_at, payment_link_id"
)

#: The partial unique index that allows one active payment per order (migration 0005).
ONE_ACTIVE_PER_ORDER = "payments_one_active_per_order"

# Nothing is returned and nothing is done on a conflict: the accept does not wait for
# this statement (it travels with the COMMIT), so a second active payment for the order
# must stop the transaction. The unique violation on ONE_ACTIVE_PER_ORDER does: the
# server skips what was sent after it, the idempotency record included.
INSERT_PAYMENT_WITH_HISTORY = """
WITH inserted AS (
    INSERT INTO payments (id, merchant_id, order_id, amount, currency, method, status,
                          vpa, card, bank, wallet, method_token, description, metadata,
                          capture_method, next_attempt_at, enqueued_at, created_at, updated_at,
                          payment_link_id)
    VALUES (%(id)s, %(merchant_id)s, %(order_id)s, %(amount)s, %(currency)s, %(method)s,
            'PENDING', %(vpa)s, %(card)s, %(bank)s, %(wallet)s, %(method_token)s,
            %(description)s, %(metadata)s, %(capture_method)s, %(now)s, %(now)s, %(now)s,
            %(now)s, %(payment_link_id)s)
    RETURNING id, created_at
)
INSERT INTO payment_history (payment_id, at, from_status, to_status)
SELECT id, created_at, NULL, 'PENDING' FROM inserted
"""

FIND_ACTIVE_ID_BY_MERCHANT_ID_ORDER_ID = """
SELECT id FROM payments
WHERE merchant_id = %(merchant_id)s AND order_id = %(order_id)s
  AND released_at IS NULL  -- PENDING, PROCESSING or SUCCESS (CHECK in migration 0005)
"""

GET_FOR_MERCHANT = (
    f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = %(id)s AND merchant_id = %(merchant_id)s"
)

GET_CURSOR_FOR_MERCHANT = (
    "SELECT created_at, id FROM payments WHERE id = %(id)s AND merchant_id = %(merchant_id)s"
)

LIST_HISTORY_FOR_MERCHANT = """
SELECT h.at, h.from_status, h.to_status, h.attempt, h.outcome, h.failure_code, h.latency_ms,
       h.connector, h.resolution
FROM payment_history h JOIN payments p ON p.id = h.payment_id
WHERE h.payment_id = %(id)s AND p.merchant_id = %(merchant_id)s
ORDER BY h.id
"""

CANCEL_PENDING_FOR_MERCHANT = f"""
WITH cancelled AS (
    UPDATE payments
    SET status = 'CANCELLED', next_attempt_at = NULL, released_at = %(now)s,
        cancellation_reason = 'requested_by_customer', updated_at = %(now)s
    WHERE id = %(id)s AND merchant_id = %(merchant_id)s AND status = 'PENDING'
    RETURNING {PAYMENT_COLUMNS}
), history AS (
    INSERT INTO payment_history (payment_id, at, from_status, to_status)
    SELECT id, %(now)s, 'PENDING', 'CANCELLED' FROM cancelled
)
SELECT {PAYMENT_COLUMNS} FROM cancelled
"""


def insert_payment_with_history(conn: Connection, row: dict[str, Any]) -> None:
    """Send the INSERT of a PENDING payment and its first history entry, without waiting.

    A second active payment for the order raises a unique violation on
    ONE_ACTIVE_PER_ORDER (`is_order_conflict`): at once, or in pipeline mode at the
    next fetch or the COMMIT. The unique index decides, so concurrent creates cannot
    both win.
    """
    from psycopg.types.json import Jsonb  # lazy, as in db

    params = dict(row)
    params["card"] = Jsonb(row["card"]) if row["card"] is not None else None
    params["metadata"] = Jsonb(row["metadata"])
    conn.execute(INSERT_PAYMENT_WITH_HISTORY, params)


def is_order_conflict(exc: Exception) -> bool:
    """Whether `exc` is the refusal of a second active payment for an order."""
    import psycopg

    return (
        isinstance(exc, psycopg.errors.UniqueViolation)
        and exc.diag.constraint_name == ONE_ACTIVE_PER_ORDER
    )


def find_active_id_by_merchant_id_order_id(
    conn: Connection, merchant_id: str, order_id: str
) -> str | None:
    row = conn.execute(
        FIND_ACTIVE_ID_BY_MERCHANT_ID_ORDER_ID, {"merchant_id": merchant_id, "order_id": order_id}
    ).fetchone()
    return row["id"] if row else None


def get_payment_for_merchant(
    conn: Connection, payment_id: str, merchant_id: str
) -> dict[str, Any] | None:
    return conn.execute(GET_FOR_MERCHANT, {"id": payment_id, "merchant_id": merchant_id}).fetchone()


def get_cursor_for_merchant(
    conn: Connection, payment_id: str, merchant_id: str
) -> tuple[datetime, str] | None:
    row = conn.execute(
        GET_CURSOR_FOR_MERCHANT, {"id": payment_id, "merchant_id": merchant_id}
    ).fetchone()
    return (row["created_at"], row["id"]) if row else None


def list_payments_for_merchant(
    conn: Connection,
    merchant_id: str,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    status: str | None,
    order_id: str | None,
    payment_link_id: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first; fetches `limit` rows (ask for one more to learn `has_more`)."""
    clauses = ["merchant_id = %(merchant_id)s"]
    params: dict[str, Any] = {"merchant_id": merchant_id, "limit": limit}
    if status is not None:
        clauses.append("status = %(status)s")
        params["status"] = status
    if order_id is not None:
        clauses.append("order_id = %(order_id)s")
        params["order_id"] = order_id
    if payment_link_id is not None:
        clauses.append("payment_link_id = %(payment_link_id)s")
        params["payment_link_id"] = payment_link_id
    if after is not None:
        clauses.append("(created_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    sql = (
        f"SELECT {PAYMENT_COLUMNS} FROM payments WHERE {' AND '.join(clauses)}"
        " ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    )
    return conn.execute(sql, params).fetchall()


def list_history_for_merchant(
    conn: Connection, payment_id: str, merchant_id: str
) -> list[dict[str, Any]]:
    return conn.execute(
        LIST_HISTORY_FOR_MERCHANT, {"id": payment_id, "merchant_id": merchant_id}
    ).fetchall()


def cancel_pending_for_merchant(
    conn: Connection, payment_id: str, merchant_id: str, now: datetime
) -> dict[str, Any] | None:
    """Compare-and-set PENDING → CANCELLED; None if the payment was not PENDING."""
    return conn.execute(
        CANCEL_PENDING_FOR_MERCHANT, {"id": payment_id, "merchant_id": merchant_id, "now": now}
    ).fetchone()
