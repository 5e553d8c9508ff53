"""Database rows to the API's objects: beside the models, so that the queue and the
services both use them without importing each other."""

from __future__ import annotations

from typing import Any

from chalicelib.models.payments import CardSummary, Payment
from chalicelib.models.refunds import Refund, RefundStatus

#: A refund's internal status -> the status the API shows (PROCESSING is not final).
REFUND_VISIBLE_STATUS: dict[str, RefundStatus] = {
    "PENDING": "PENDING",
    "PROCESSING": "PENDING",
    "SUCCESS": "SUCCESS",
    "FAILED": "FAILED",
}


def payment_from_row(row: dict[str, Any], model: type[Payment] = Payment) -> Payment:
    """The API's payment object (or a subclass such as PaymentCreated) from a database row."""
    card = row["card"]
    return model(
        id=row["id"],
        order_id=row["order_id"],
        amount=row["amount"],
        currency=row["currency"],
        method=row["method"],
        status=row["status"],
        vpa=row["vpa"],
        card=CardSummary(**card) if card else None,
        bank=row["bank"],
        wallet=row["wallet"],
        description=row["description"],
        metadata=row["metadata"],
        amount_refunded=row["amount_refunded"],
        capture_method=row["capture_method"],
        amount_capturable=row["amount"] if row["status"] == "AUTHORIZED" else 0,
        amount_captured=_captured(row),
        capture_before=row["capture_before"] if row["status"] == "AUTHORIZED" else None,
        cancellation_reason=row["cancellation_reason"],
        attempts=row["attempts"],
        # Set only while a retry is scheduled (a new payment is due at once).
        next_attempt_at=(
            row["next_attempt_at"] if row["status"] == "PENDING" and row["attempts"] else None
        ),
        failure_code=row["failure_code"],
        failure_message=row["failure_message"],
        connector=row["connector"],
        outcome_unknown_since=row["outcome_unknown_since"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        payment_link_id=row.get("payment_link_id"),
    )


def _captured(row: dict[str, Any]) -> int:
    if row["amount_captured"] is not None:
        return int(row["amount_captured"])
    return int(row["amount"]) if row["status"] == "SUCCESS" else 0


def refund_from_row(row: dict[str, Any]) -> Refund:
    """The API's refund object from a database row."""
    return Refund(
        id=row["id"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        status=REFUND_VISIBLE_STATUS[row["status"]],
        reason=row["reason"],
        failure_code=row["failure_code"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
