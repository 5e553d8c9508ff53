"""SQL of orphan charges: charges an acquirer holds that no SUCCESS payment stands on.

Reconciliation records each one it finds (`found`), then what its reversal at the
acquirer gave (`reversed`, or `failed` with the reason). A reversal writes the payment's
history row in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

RECORD_FOUND = """
INSERT INTO orphan_charges (connector, idempotency_key, acquirer_id, payment_id, merchant_id,
                            amount, currency, gateway_status, status, detail, found_at,
                            updated_at)
SELECT %(connector)s, k, a, p, m, amt, cur, gs,
       CASE WHEN r = 'in_flight' THEN 'in_flight' ELSE 'found' END, r, %(now)s, %(now)s
FROM unnest(%(keys)s::text[], %(acquirer_ids)s::text[], %(payment_ids)s::text[],
            %(merchant_ids)s::text[], %(amounts)s::bigint[], %(currencies)s::text[],
            %(gateway_statuses)s::text[], %(reasons)s::text[])
    AS o(k, a, p, m, amt, cur, gs, r)
ON CONFLICT (connector, idempotency_key) DO NOTHING
"""

MARK_FOR_CONNECTOR_KEY = """
UPDATE orphan_charges SET status = %(status)s, detail = %(detail)s, updated_at = %(now)s
WHERE connector = %(connector)s AND idempotency_key = %(key)s AND status <> 'reversed'
RETURNING payment_id
"""

INSERT_REVERSAL_HISTORY = """
INSERT INTO payment_history (payment_id, at, from_status, to_status, outcome, connector)
SELECT id, %(now)s, status, status, 'orphan_reversed', %(connector)s
FROM payments WHERE id = %(payment_id)s
"""

LIST_OPEN = """
SELECT connector, idempotency_key, acquirer_id, payment_id, merchant_id, amount, currency,
       gateway_status, status, detail, found_at, updated_at
FROM orphan_charges ORDER BY found_at DESC, idempotency_key LIMIT %(limit)s
"""

COUNT_BY_STATUS = "SELECT status, count(*) AS n FROM orphan_charges GROUP BY status"

# Every orphan of a connector not settled yet, with its payment as it is now: each run
# looks at them all again (a void that failed, a payment that was still open).
LIST_OPEN_FOR_CONNECTOR = """
SELECT o.idempotency_key, o.acquirer_id, o.payment_id AS id, o.merchant_id, o.amount,
       o.currency, o.status, p.status AS payment_status, p.connector AS payment_connector,
       coalesce(p.charge_key, p.id) AS payment_charge_key
FROM orphan_charges o LEFT JOIN payments p ON p.id = o.payment_id
WHERE o.connector = %(connector)s AND o.status IN ('found', 'failed', 'in_flight')
ORDER BY o.found_at
"""

SET_STATUS_FOR_CONNECTOR_KEY = """
UPDATE orphan_charges SET status = %(status)s, detail = %(detail)s, updated_at = %(now)s
WHERE connector = %(connector)s AND idempotency_key = %(key)s AND status <> 'reversed'
"""


def record_found(
    conn: Connection, connector: str, orphans: list[dict[str, Any]], now: datetime
) -> None:
    """Record orphans found by reconciliation (once per connector and key)."""
    if not orphans:
        return
    conn.execute(
        RECORD_FOUND,
        {
            "connector": connector,
            "now": now,
            "keys": [o["idempotency_key"] for o in orphans],
            "acquirer_ids": [o["acquirer_id"] for o in orphans],
            "payment_ids": [o["id"] for o in orphans],
            "merchant_ids": [o["merchant_id"] for o in orphans],
            "amounts": [o["amount"] for o in orphans],
            "currencies": [o["currency"] for o in orphans],
            "gateway_statuses": [o["gateway_status"] for o in orphans],
            "reasons": [o["reason"] for o in orphans],
        },
    )


def mark_for_connector_key(
    conn: Connection, connector: str, key: str, status: str, detail: str, now: datetime
) -> str | None:
    """Set an orphan's status; its payment id (None if it was reversed already)."""
    row = conn.execute(
        MARK_FOR_CONNECTOR_KEY,
        {"connector": connector, "key": key, "status": status, "detail": detail, "now": now},
    ).fetchone()
    return row["payment_id"] if row else None


def insert_reversal_history(
    conn: Connection, payment_id: str, connector: str, now: datetime
) -> None:
    conn.execute(
        INSERT_REVERSAL_HISTORY, {"payment_id": payment_id, "connector": connector, "now": now}
    )


def list_recent(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    return conn.execute(LIST_OPEN, {"limit": limit}).fetchall()


def list_open_for_connector(conn: Connection, connector: str) -> list[dict[str, Any]]:
    return conn.execute(LIST_OPEN_FOR_CONNECTOR, {"connector": connector}).fetchall()


def set_status_for_connector_key(
    conn: Connection, connector: str, key: str, status: str, detail: str, now: datetime
) -> None:
    conn.execute(
        SET_STATUS_FOR_CONNECTOR_KEY,
        {"connector": connector, "key": key, "status": status, "detail": detail, "now": now},
    )


def count_by_status(conn: Connection) -> dict[str, int]:
    counts = {"found": 0, "in_flight": 0, "reversed": 0, "failed": 0, "owned": 0}
    for row in conn.execute(COUNT_BY_STATUS).fetchall():
        counts[row["status"]] = int(row["n"])
    return counts
