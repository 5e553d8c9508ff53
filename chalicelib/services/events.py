"""The transactional outbox: events are written in the transaction of the change."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib import ids
from chalicelib.clock import utcnow
from chalicelib.db import Connection
from chalicelib.repository import events as event_repo

EVENT_TYPES = (
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.charge_reversed",
    "refund.succeeded",
    "refund.failed",
)


def record_payment_events(conn: Connection, items: list[tuple[str, str, BaseModel]]) -> None:
    """Record events `(merchant_id, type, object)` with their deliveries, set-based."""
    if not items:
        return
    event_repo.insert_events_with_deliveries(
        conn,
        ids.new_ids(ids.EVENT, len(items)),
        [merchant_id for merchant_id, _, _ in items],
        [event_type for _, event_type, _ in items],
        [obj.model_dump_json() for _, _, obj in items],
        utcnow(),
    )
