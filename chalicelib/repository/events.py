"""SQL for the event outbox and the delivery rows it fans out to."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib import ids
from chalicelib.clock import utcnow
from chalicelib.db import Connection

if TYPE_CHECKING:
    from pydantic import BaseModel

INSERT_EVENTS_WITH_DELIVERIES = """
WITH inserted AS (
    INSERT INTO events (id, merchant_id, type, data, created_at)
    SELECT id, merchant_id, type, data::json, %(now)s
    FROM unnest(%(ids)b::text[], %(merchant_ids)b::text[], %(types)b::text[], %(datas)b::text[])
        AS e(id, merchant_id, type, data)
    RETURNING id, merchant_id, type
)
INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at,
                                updated_at)
SELECT inserted.id, w.id, 'pending', %(now)s, %(now)s, %(now)s
FROM inserted
JOIN webhook_endpoints w
  ON w.merchant_id = inserted.merchant_id AND w.deleted_at IS NULL
 AND w.status = 'enabled' AND inserted.type = ANY (w.events)
"""


def insert_events_with_deliveries(
    conn: Connection,
    event_ids: list[str],
    merchant_ids: list[str],
    types: list[str],
    datas: list[str],
    now: datetime,
) -> None:
    """Insert events and one pending delivery per subscribed endpoint, in one statement."""
    if not event_ids:
        return
    conn.execute(
        INSERT_EVENTS_WITH_DELIVERIES,
        {
            "ids": event_ids,
            "merchant_ids": merchant_ids,
            "types": types,
            "datas": datas,
            "now": now,
        },
        prepare=False,
    )


def record_events_for_objects(conn: Connection, items: list[tuple[str, str, BaseModel]]) -> None:
    """The transactional outbox: events `(merchant_id, type, object)` with their
    deliveries, written set-based in the caller's transaction (the change's own)."""
    if not items:
        return
    insert_events_with_deliveries(
        conn,
        ids.new_ids(ids.EVENT, len(items)),
        [merchant_id for merchant_id, _, _ in items],
        [event_type for _, event_type, _ in items],
        [obj.model_dump_json() for _, _, obj in items],
        utcnow(),
    )
