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


def to_reverse(uow: db.UnitOfWork, connector: str) -> list[dict[str, Any]]:
    """Look again at every unsettled orphan of `connector`, its payment as it is now: one
    whose payment turned out to stand on it is `owned`; one whose payment is still open
    (PENDING, PROCESSING, or AUTHORIZED with its capture unsettled) stays `in_flight`;
    the others (final payments of ours) are returned to reverse. Those
    whose payment is unknown to the gateway stay listed, for the operator."""
    now = utcnow()
    reverse = []
    for row in orphan_repo.list_open_for_connector(uow.conn, connector):
        status = row["payment_status"]
        if status is None:
            continue
        owns = (
            status == "SUCCESS"
            and row["payment_connector"] == connector
            and row["payment_charge_key"] == row["idempotency_key"]
        )
        if owns:
            orphan_repo.set_status_for_connector_key(
                uow.conn,
                connector,
                row["idempotency_key"],
                "owned",
                "its payment stands on it",
                now,
            )
        # AUTHORIZED is open too: a capture whose answer was lost is booked at the
        # acquirer before the payment is SUCCESS (manual capture), and is its own.
        elif status not in ("PENDING", "PROCESSING", "AUTHORIZED"):
            reverse.append(row)
    return reverse


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
