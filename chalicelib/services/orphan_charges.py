"""Orphan charges: a charge standing at an acquirer that no SUCCESS payment stands on.

Reconciliation finds them (services/reconciliation.py: a late charge on a FAILED or
CANCELLED payment, a charge at one connector for a payment that succeeded at another).
Each is recorded, then reversed at its acquirer by a void by key, which is recorded in
the payment's history with the connector and announced by a `payment.charge_reversed`
event. The orphans whose payment is unknown to the gateway are only listed: nothing of
ours stands behind them, so they are the operator's to look at.
"""

from __future__ import annotations

from typing import Any

from chalicelib import db
from chalicelib.clock import utcnow
from chalicelib.models.rows import payment_from_row
from chalicelib.repository import orphan_charges as orphan_repo
from chalicelib.repository import payments as payment_repo
from chalicelib.services import events

#: reasons (services/reconciliation.py) whose charge is reversed automatically
REVERSIBLE = frozenset({"failed", "cancelled", "succeeded_elsewhere", "other_key"})


def reversible(orphans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The orphans to reverse: those whose payment is ours and final."""
    return [o for o in orphans if o["reason"] in REVERSIBLE]


def record_found(uow: db.UnitOfWork, connector: str, orphans: list[dict[str, Any]]) -> None:
    orphan_repo.record_found(uow.conn, connector, orphans, utcnow())


def record_reversal(
    uow: db.UnitOfWork, connector: str, orphan: dict[str, Any], void_status: str
) -> bool:
    """Record what the void gave; True if the charge is reversed (history and event too)."""
    now = utcnow()
    reversed_ = void_status == "not_charged"
    payment_id = orphan_repo.mark_for_connector_key(
        uow.conn,
        connector,
        orphan["idempotency_key"],
        "reversed" if reversed_ else "failed",
        "reversed at the acquirer" if reversed_ else f"the void answered {void_status}",
        now,
    )
    if not reversed_ or payment_id is None:
        return reversed_
    orphan_repo.insert_reversal_history(uow.conn, payment_id, connector, now)
    row = payment_repo.get_payment_for_merchant(uow.conn, payment_id, orphan["merchant_id"])
    if row is not None:
        events.record_payment_events(
            uow.conn,
            [(orphan["merchant_id"], "payment.charge_reversed", payment_from_row(row))],
        )
    return True


def counts(conn: db.Connection) -> dict[str, int]:
    """Orphan charges by status: found (not yet reversed), reversed, failed."""
    return orphan_repo.count_by_status(conn)


def recent(conn: db.Connection, limit: int = 100) -> list[dict[str, Any]]:
    return orphan_repo.list_recent(conn, limit)
