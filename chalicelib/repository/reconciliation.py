"""SQL for reconciliation: the gateway's side of one connector's settlement day.

Reads only. A payment counts on the day it became SUCCESS (its history row: for a
manual-capture payment, the day it was captured), for what was captured; a refund
on the day it became SUCCESS (its `updated_at`: a SUCCESS refund never changes again).
Each side is read per connector: a payment's charge is held at the connector of its
last attempt (`payments.connector`), under its charge key (migration 0010).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

FIND_PAYMENTS_BY_IDS = """
SELECT id, merchant_id, coalesce(amount_captured, amount) AS amount, currency, status,
       connector, coalesce(charge_key, id) AS charge_key
FROM payments WHERE id = ANY(%(ids)s)
"""

FIND_PAYMENTS_SUCCEEDED_BETWEEN_AT_CONNECTOR = """
SELECT DISTINCT p.id, p.merchant_id, coalesce(p.amount_captured, p.amount) AS amount,
       p.currency, p.status, p.connector, coalesce(p.charge_key, p.id) AS charge_key
FROM payment_history h JOIN payments p ON p.id = h.payment_id
WHERE h.to_status = 'SUCCESS' AND h.at >= %(start)s AND h.at < %(end)s
  AND h.outcome IS DISTINCT FROM 'orphan_reversed'  -- a reversal elsewhere is no success
  AND p.status = 'SUCCESS' AND p.connector = %(connector)s
  AND (%(merchant_id)s::text IS NULL OR p.merchant_id = %(merchant_id)s)
"""

FIND_REFUNDS_BY_IDS = """
SELECT id, merchant_id, payment_id, amount, currency, status, connector,
       id AS charge_key
FROM refunds WHERE id = ANY(%(ids)s)
"""

FIND_REFUNDS_SUCCEEDED_BETWEEN_AT_CONNECTOR = """
SELECT id, merchant_id, payment_id, amount, currency, status, connector, id AS charge_key
FROM refunds
WHERE status = 'SUCCESS' AND updated_at >= %(start)s AND updated_at < %(end)s
  AND connector = %(connector)s
  AND (%(merchant_id)s::text IS NULL OR merchant_id = %(merchant_id)s)
"""


def find_payments_by_ids(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(FIND_PAYMENTS_BY_IDS, {"ids": ids}).fetchall()
    return {row["id"]: row for row in rows}


def find_payments_succeeded_between_at_connector(
    conn: Connection, connector: str, start: datetime, end: datetime, merchant_id: str | None
) -> list[dict[str, Any]]:
    params = {"start": start, "end": end, "merchant_id": merchant_id, "connector": connector}
    return conn.execute(FIND_PAYMENTS_SUCCEEDED_BETWEEN_AT_CONNECTOR, params).fetchall()


def find_refunds_by_ids(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(FIND_REFUNDS_BY_IDS, {"ids": ids}).fetchall()
    return {row["id"]: row for row in rows}


def find_refunds_succeeded_between_at_connector(
    conn: Connection, connector: str, start: datetime, end: datetime, merchant_id: str | None
) -> list[dict[str, Any]]:
    params = {"start": start, "end": end, "merchant_id": merchant_id, "connector": connector}
    return conn.execute(FIND_REFUNDS_SUCCEEDED_BETWEEN_AT_CONNECTOR, params).fetchall()
