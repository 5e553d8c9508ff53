"""Payment rules: accept, read, list, cancel, history.

The HTTP routes and the queue (`chalicelib/queue/`) both come through here; each
caller opens the unit of work and passes it (or its connection) in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import (
    ConflictError,
    GatewayError,
    InvalidRequestError,
    ResourceMissingError,
)
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
    """Store a PENDING payment with its first history entry; enqueue it after commit
    (`store_payment`)."""
    card_summary = None
    method_token = None
    if request.card is not None:
        refuse_raw_card_if_tokens_only(uow.conn, merchant_id)
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
    return store_payment(
        uow,
        {
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
            "payment_link_id": None,
            "capture_method": request.capture_method,
        },
    )


def refuse_raw_card_if_tokens_only(conn: db.Connection, merchant_id: str) -> None:
    """400 `card_data_tokens_only` when the merchant takes card tokens only (issue 26)."""
    from chalicelib.repository import payment_links as link_repo

    if link_repo.get_card_data(conn, merchant_id) == "tokens_only":
        raise InvalidRequestError(
            "This merchant accepts card tokens only (card_data: tokens_only): take cards"
            " through a payment link's checkout page, never as a raw card number.",
            code="card_data_tokens_only",
            param="card",
        )


def store_payment(
    uow: db.UnitOfWork,
    fields: dict[str, Any],
    conflict: Callable[[], GatewayError] | None = None,
) -> Payment:
    """Send the INSERT of a PENDING payment and its first history entry; enqueue it after
    commit.

    The INSERT is not waited for: on the HTTP path it travels with the idempotency record
    and the COMMIT, one round trip for the whole accept (docs/architecture.md, "The
    accept in one round trip"). The answer is the row as sent. A second active payment
    for the order stops the transaction, and `uow.on_error` turns that into 409
    `order_has_active_payment`, or into `conflict()`'s error when the caller gives one.
    """
    now = utcnow()
    row = new_payment_row({**fields, "id": ids.new_id(ids.PAYMENT)}, now)
    merchant_id, order_id = str(fields["merchant_id"]), str(fields["order_id"])
    uow.on_error(
        lambda exc, conn: _raise_order_conflict(exc, conn, merchant_id, order_id, conflict)
    )
    payment_repo.insert_payment_with_history(
        uow.conn, {**row, "method_token": fields["method_token"]}
    )
    from chalicelib.queue import enqueue  # lazy: the queue is not on the read path

    enqueue.after_commit(uow, enqueue.PAYMENTS, row["id"])
    return payment_from_row(row, PaymentCreated)


def new_payment_row(fields: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A new payment's row as INSERT_PAYMENT_WITH_HISTORY stores it (the columns the
    API shows; `tests/integration/test_accept_round_trips.py` reads it back to check)."""
    given = (
        "id", "merchant_id", "order_id", "amount", "currency", "method", "vpa", "card",
        "bank", "wallet", "description", "metadata", "payment_link_id", "capture_method",
    )  # fmt: skip
    return {
        **{name: fields[name] for name in given},
        "status": "PENDING",
        "amount_refunded": 0,
        "attempts": 0,
        "next_attempt_at": now,
        "failure_code": None,
        "failure_message": None,
        "connector": None,
        "outcome_unknown_since": None,
        "amount_captured": None,
        "capture_before": None,
        "cancellation_reason": None,
        "created_at": now,
        "updated_at": now,
        "now": now,
    }


def _raise_order_conflict(
    exc: Exception,
    conn: db.Connection,
    merchant_id: str,
    order_id: str,
    conflict: Callable[[], GatewayError] | None,
) -> None:
    if not payment_repo.is_order_conflict(exc):
        return
    if conflict is not None:
        raise conflict() from exc
    existing = payment_repo.find_active_id_by_merchant_id_order_id(conn, merchant_id, order_id)
    raise ConflictError(
        f"Order '{order_id}' already has an active payment.",
        code="order_has_active_payment",
        param="order_id",
        extra={"payment_id": existing},
    ) from exc


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
            payment_link_id=query.payment_link_id,
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
