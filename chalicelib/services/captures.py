"""Manual capture: capture an AUTHORIZED payment, void it, expire it (issue 25).

Each request queues one operation (`payment_operations`) for the drain, which calls
the payment's connector; the payment stays AUTHORIZED until the operation's definitive
answer moves it to SUCCESS (captured) or CANCELLED (voided). A payment takes at most
one operation that is open or succeeded, so a capture and a void (the merchant's or
the expiry sweep's) never both go to the acquirer: the first to commit wins, the other
is refused with a 409.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import db, ids
from chalicelib.clock import utcnow
from chalicelib.errors import AmountTooLargeError, ConflictError, ResourceMissingError
from chalicelib.models.payments import Payment
from chalicelib.repository import payment_operations as operation_repo
from chalicelib.repository import payments as payment_repo


def _missing(payment_id: str) -> ResourceMissingError:
    return ResourceMissingError(f"No such payment: '{payment_id}'", param="id")


def _queue(
    uow: db.UnitOfWork,
    merchant_id: str,
    payment_id: str,
    type_: str,
    amount: int | None,
    reason: str | None,
) -> dict[str, Any]:
    """Insert the operation; the payment's state and the operation's id (None: refused)."""
    if not ids.has_prefix(payment_id, ids.PAYMENT):
        raise _missing(payment_id)
    row = operation_repo.insert_for_merchant(
        uow.conn,
        operation_id=ids.new_id(ids.PAYMENT_OPERATION),
        payment_id=payment_id,
        merchant_id=merchant_id,
        type_=type_,
        amount=amount,
        reason=reason,
        now=utcnow(),
    )
    if row is None:
        raise _missing(payment_id)
    if row["operation_id"] is not None:
        from chalicelib.queue import enqueue  # lazy: not on the read path

        enqueue.after_commit(uow, enqueue.OPERATIONS, row["operation_id"])
    return row


def _current(uow: db.UnitOfWork, merchant_id: str, payment_id: str) -> Payment:
    from chalicelib.models.rows import payment_from_row

    row = payment_repo.get_payment_for_merchant(uow.conn, payment_id, merchant_id)
    if row is None:  # pragma: no cover (the payment was just locked)
        raise _missing(payment_id)
    return payment_from_row(row)


def capture_payment(
    uow: db.UnitOfWork, merchant_id: str, payment_id: str, amount: int | None
) -> Payment:
    """Queue the capture of `amount` (default: all) of an AUTHORIZED payment.

    404 for a payment the merchant does not have; 400 `amount_too_large` above the
    authorized amount; 409 `payment_already_captured` once a capture was requested,
    `authorization_expired` past `capture_before`, `payment_not_capturable` otherwise
    (not a manual payment, not AUTHORIZED, or being voided).
    """
    row = _queue(uow, merchant_id, payment_id, "capture", amount, None)
    if row["operation_id"] is not None:
        return _current(uow, merchant_id, payment_id)
    live = operation_repo.find_live_for_payment(uow.conn, payment_id)
    if live is not None and live["type"] == "capture":
        raise ConflictError(
            f"Payment '{payment_id}' has already been captured (or its capture is under way);"
            " a payment is captured once.",
            code="payment_already_captured",
        )
    if row["status"] != "AUTHORIZED" or live is not None:
        state = "being voided" if live is not None else row["status"]
        raise ConflictError(
            f"Payment '{payment_id}' is {state} and cannot be captured;"
            " only AUTHORIZED payments can.",
            code="payment_not_capturable",
        )
    if amount is not None and amount > row["amount"]:
        raise AmountTooLargeError(
            f"Capture amount exceeds the authorized amount ({row['amount']}).", param="amount"
        )
    raise ConflictError(
        f"Payment '{payment_id}''s authorization expired at {row['capture_before'].isoformat()};"
        " it is being voided.",
        code="authorization_expired",
    )


def void_authorization(uow: db.UnitOfWork, merchant_id: str, payment_id: str) -> Payment:
    """Queue the void of an AUTHORIZED payment (the cancel of a manual payment).

    409 `payment_not_cancellable` when it is not AUTHORIZED, or a capture or void of it
    is already under way."""
    row = _queue(uow, merchant_id, payment_id, "void", None, "requested_by_customer")
    if row["operation_id"] is not None:
        return _current(uow, merchant_id, payment_id)
    live = operation_repo.find_live_for_payment(uow.conn, payment_id)
    state = row["status"]
    if live is not None and row["status"] == "AUTHORIZED":
        state = "being captured" if live["type"] == "capture" else "being cancelled"
    raise ConflictError(
        f"Payment '{payment_id}' is {state} and cannot be cancelled;"
        " only PENDING and AUTHORIZED payments can.",
        code="payment_not_cancellable",
    )


def expire_authorizations(uow: db.UnitOfWork, now: datetime, limit: int) -> int:
    """Queue a void (reason `expired`) for AUTHORIZED payments past their deadline."""
    queued = operation_repo.insert_expiry_voids(
        uow.conn, now, [ids.new_id(ids.PAYMENT_OPERATION) for _ in range(limit)]
    )
    if queued:
        from chalicelib.queue import enqueue

        for operation_id in queued:
            enqueue.after_commit(uow, enqueue.OPERATIONS, operation_id)
    return len(queued)
