"""The transactional outbox: events are written in the transaction of the change."""

from __future__ import annotations

from pydantic import BaseModel

from chalicelib.db import Connection
from chalicelib.repository import events as event_repo

EVENT_TYPES = (
    "payment.authorized",
    "payment.captured",
    "payment.succeeded",
    "payment.failed",
    "payment.cancelled",
    "payment.charge_reversed",
    "refund.succeeded",
    "refund.failed",
)


def record_payment_events(conn: Connection, items: list[tuple[str, str, BaseModel]]) -> None:
    """Record events `(merchant_id, type, object)` with their deliveries, set-based."""
    event_repo.record_events_for_objects(conn, items)
