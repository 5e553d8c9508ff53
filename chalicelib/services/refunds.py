"""Refund rules: create (within what is left to refund), read, list.

Only a SUCCESS payment can be refunded, and the sum of its PENDING and SUCCESS
refunds never exceeds its amount. The database enforces the sum (see
`repository.refunds`), so concurrent requests cannot over-refund. Refunds are
executed asynchronously by the queue (`chalicelib/queue/`, kind `refunds`).
"""

from __future__ import annotations

import logging

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import (
    AmountTooLargeError,
    ConflictError,
    ResourceMissingError,
)
from chalicelib.models.refunds import CreateRefundRequest, ListRefundsQuery, Refund
from chalicelib.models.rows import refund_from_row
from chalicelib.repository import refunds as refund_repo
from chalicelib.services.pagination import page

log = logging.getLogger(__name__)


def _payment_missing(payment_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such payment: '{payment_id}'", param="id")


def _refund_missing(refund_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such refund: '{refund_id}'", param="id")


def create_refund(
    uow: db.UnitOfWork, merchant_id: str, payment_id: str, request: CreateRefundRequest
) -> Refund:
    """Reserve the amount and store a PENDING refund; enqueue it after commit.

    404 for a payment the merchant does not have, 409 `payment_not_refundable`
    unless it is SUCCESS, 409 `payment_already_refunded` when nothing is left to
    refund, 400 `amount_too_large` when the amount does not fit in what is left.
    """
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _payment_missing(payment_id)
    row = refund_repo.reserve_and_insert_for_merchant(
        uow.conn,
        refund_id=ids.new_id(ids.REFUND),
        payment_id=payment_id,
        merchant_id=merchant_id,
        amount=request.amount,
        reason=request.reason,
        now=utcnow(),
    )
    if row is None:
        raise _payment_missing(payment_id)
    if row["id"] is None:
        if row["payment_status"] != "SUCCESS":
            raise ConflictError(
                f"Payment '{payment_id}' is {row['payment_status']}; only SUCCESS payments"
                " can be refunded.",
                code="payment_not_refundable",
            )
        left = row["payment_amount"] - row["payment_amount_reserved"]
        if left <= 0:  # the payment's state refuses any refund, whatever the request
            raise ConflictError(
                f"Payment '{payment_id}' has nothing left to refund: its whole amount is"
                " refunded or being refunded.",
                code="payment_already_refunded",
            )
        raise AmountTooLargeError(
            f"Refund amount exceeds what is left to refund on this payment ({left}).",
            param="amount",
        )
    from chalicelib.queue import enqueue  # lazy: the queue is not on the read path

    enqueue.after_commit(uow, enqueue.REFUNDS, row["id"])
    return refund_from_row(row)


def get_refund(conn: db.Connection, merchant_id: str, refund_id: str) -> Refund:
    """One of the merchant's refunds, or 404."""
    if not ids.has_prefix(refund_id, ids.REFUND):
        raise _refund_missing(refund_id)
    row = refund_repo.get_refund_for_merchant(conn, refund_id, merchant_id)
    if row is None:
        raise _refund_missing(refund_id)
    return refund_from_row(row)


def list_refunds(
    conn: db.Connection, merchant_id: str, payment_id: str, query: ListRefundsQuery
) -> tuple[list[Refund], bool]:
    """A page of a payment's refunds, newest first, and whether more follow."""
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _payment_missing(payment_id)
    if not refund_repo.payment_exists_for_merchant(conn, payment_id, merchant_id):
        raise _payment_missing(payment_id)
    return page(
        query.starting_after,
        query.limit,
        "refund",
        lambda cursor_id: refund_repo.get_cursor_for_merchant_payment(
            conn, cursor_id, merchant_id, payment_id
        ),
        lambda after, n: refund_repo.list_refunds_for_merchant_payment(
            conn, merchant_id, payment_id, limit=n, after=after
        ),
        refund_from_row,
    )
