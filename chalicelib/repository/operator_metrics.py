"""SQL for the operator's figures: throughput by minute and volume per merchant.

Both read every merchant's rows (an operator sees them all) within a time window,
found through the BRIN indexes of migration 0007.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import Connection

ACCEPTED_BY_MINUTE = """
SELECT date_trunc('minute', created_at) AS minute, count(*) AS n
FROM payments WHERE created_at >= %(since)s
GROUP BY 1
"""

FINISHED_BY_MINUTE = """
SELECT date_trunc('minute', at) AS minute,
       count(*) FILTER (WHERE to_status = 'SUCCESS') AS succeeded,
       count(*) FILTER (WHERE to_status = 'FAILED') AS failed
FROM payment_history
WHERE at >= %(since)s AND to_status IN ('SUCCESS', 'FAILED')
GROUP BY 1
"""

VOLUME_BY_MERCHANT = """
WITH recent AS (
    SELECT merchant_id, currency, status, amount FROM payments
    WHERE created_at >= %(since)s
), per_merchant AS (
    SELECT merchant_id,
           count(*) AS payments,
           count(*) FILTER (WHERE status = 'SUCCESS') AS succeeded,
           count(*) FILTER (WHERE status = 'FAILED') AS failed
    FROM recent GROUP BY merchant_id
    ORDER BY payments DESC, merchant_id
    LIMIT %(limit)s
)
SELECT p.merchant_id, m.name, p.payments, p.succeeded, p.failed,
       coalesce((
           SELECT json_agg(json_build_object('currency', v.currency, 'amount', v.amount)
                           ORDER BY v.currency)
           FROM (SELECT currency, sum(amount)::bigint AS amount FROM recent r
                 WHERE r.merchant_id = p.merchant_id AND r.status = 'SUCCESS'
                 GROUP BY currency) v
       ), '[]'::json) AS volume
FROM per_merchant p JOIN merchants m ON m.id = p.merchant_id
ORDER BY p.payments DESC, p.merchant_id
"""


def accepted_by_minute(conn: Connection, since: datetime) -> dict[datetime, int]:
    rows = conn.execute(ACCEPTED_BY_MINUTE, {"since": since}).fetchall()
    return {row["minute"]: int(row["n"]) for row in rows}


def finished_by_minute(conn: Connection, since: datetime) -> dict[datetime, tuple[int, int]]:
    rows = conn.execute(FINISHED_BY_MINUTE, {"since": since}).fetchall()
    return {row["minute"]: (int(row["succeeded"]), int(row["failed"])) for row in rows}


def volume_by_merchant(conn: Connection, since: datetime, limit: int) -> list[dict[str, Any]]:
    """The `limit` busiest merchants since `since` (one more tells whether there are more)."""
    return conn.execute(VOLUME_BY_MERCHANT, {"since": since, "limit": limit}).fetchall()
