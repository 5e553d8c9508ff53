"""Payment rules: accept, read, list, cancel, history.

The HTTP routes and the queue (`chalicelib/queue/`) both come through here; each
caller opens the unit of work and passes it (or its connection) in.
"""

from __future__ import annotations

import logging

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import ConflictError, ResourceMissingError
from chalicelib.models.payments import (
    CreatePaymentRequest,
    ListPaymentsQuery,
    Payment,
    PaymentCreated,
    PaymentHistoryEntry,
    card_brand,
)
from chalicelib.models.rows import payment_from_row
from chalicelib.repository import payments as payment_repo
from chalicelib.services import events
from chalicelib.services.pagination import page

log = logging.getLogger(__name__)


def _missing(payment_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such payment: '{payment_id}'", param="id")


def create_payment(uow: db.UnitOfWork, merchant_id: str, request: CreatePaymentRequest) -> Payment:
    """Store a PENDING payment with its first history entry; enqueue it after commit."""
    now = utcnow()
    card_summary = None
    method_token = None
    if request.card is not None:
        # lazy: the processor (and its dataclasses) is only needed when a card is tokenized
        from chalicelib.connectors import get_connector as get_processor

        card = request.card
        method_token = get_processor().tokenize_card(
            card.number, card.exp_month, card.exp_year, card.cvc
        )
        card_summary = {
            "brand": card_brand(card.number),
            "last4": card.number[-4:],
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
        }
    row = payment_repo.insert_payment_with_history(
        uow.conn,
        {
            "id": ids.new_id(ids.PAYMENT),
            "merchant_id": merchant_id,
            "order_id": request.order_id,
            "amount": request.amount,
            "currency": request.currency,
            "method": request.method,
            "vpa": request.vpa,
            "card": card_summary,
            "bank": request.bank,
            "wallet": request.wallet,
            "method_token": method_token,
            "description": request.description,
            "metadata": request.metadata,
            "capture_method": request.capture_method,
            "now": now,
        },
    )
    if row is None:
        existing = payment_repo.find_active_id_by_merchant_id_order_id(
            uow.conn, merchant_id, request.order_id
        )
        raise ConflictError(
            f"Order '{request.order_id}' already has an active payment.",
            code="order_has_active_payment",
            param="order_id",
            extra={"payment_id": existing},
        )
    from chalicelib.queue import enqueue, kinds  # lazy: the queue is not on the read path

    enqueue.after_commit(uow, kinds.PAYMENTS, row["id"])
    return payment_from_row(row, PaymentCreated)


def get_payment(conn: db.Connection, merchant_id: str, payment_id: str) -> Payment:
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _missing(payment_id)
    row = payment_repo.get_payment_for_merchant(conn, payment_id, merchant_id)
    if row is None:
        raise _missing(payment_id)
    return payment_from_row(row)


def list_payments(
    conn: db.Connection, merchant_id: str, query: ListPaymentsQuery
) -> tuple[list[Payment], bool]:
    """A page of the merchant's payments, newest first, and whether more follow."""
    return page(
        query.starting_after,
        query.limit,
        "payment",
        lambda cursor_id: payment_repo.get_cursor_for_merchant(conn, cursor_id, merchant_id),
        lambda after, n: payment_repo.list_payments_for_merchant(
            conn,
            merchant_id,
            limit=n,
            after=after,
            status=query.status,
            order_id=query.order_id,
        ),
        payment_from_row,
    )


def cancel_payment(uow: db.UnitOfWork, merchant_id: str, payment_id: str) -> Payment:
    """PENDING → CANCELLED by compare-and-set; AUTHORIZED → its void queued (CANCELLED
    once the acquirer voided it); a payment PROCESSING or final is not cancellable."""
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _missing(payment_id)
    row = payment_repo.cancel_pending_for_merchant(uow.conn, payment_id, merchant_id, utcnow())
    if row is None:
        current = payment_repo.get_payment_for_merchant(uow.conn, payment_id, merchant_id)
        if current is None:
            raise _missing(payment_id)
        if current["status"] == "AUTHORIZED":  # a manual payment: its void is queued
            from chalicelib.services import captures

            return captures.void_authorization(uow, merchant_id, payment_id)
        raise ConflictError(
            f"Payment '{payment_id}' is {current['status']} and cannot be cancelled;"
            " only PENDING and AUTHORIZED payments can.",
            code="payment_not_cancellable",
        )
    payment = payment_from_row(row)
    events.record_payment_events(uow.conn, [(merchant_id, "payment.cancelled", payment)])
    return payment


def payment_history(
    conn: db.Connection, merchant_id: str, payment_id: str
) -> list[PaymentHistoryEntry]:
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _missing(payment_id)
    rows = payment_repo.list_history_for_merchant(conn, payment_id, merchant_id)
    if not rows:
        raise _missing(payment_id)
    return [PaymentHistoryEntry(**row) for row in rows]
