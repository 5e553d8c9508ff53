"""The kinds of queued work, each a small description that the generic path runs.

A kind names its stream and table statements, the connector calls for a claimed
batch, how one answer becomes the row's finishing values, the finish statement,
and the events that a final status records. `inflight` and `execute` do the rest,
the same way for every kind:
  payments          — authorize at the routed connector;
  refunds           — refund at the connector that charged the payment;
  payment_inquiries — ask the connector what became of an attempt whose outcome
                      was unknown (Hyperswitch's payments sync), then settle it;
  refund_inquiries  — the same for refunds;
  payment_operations — capture or void a manual-capture payment's authorization at
                      its connector, settling a lost answer there (operation_kind.py).
The shape of a kind (`WorkKind`) is in work_kind.py.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib import faults, ids
from chalicelib import redis_keys as keys
from chalicelib.connectors.base import AttemptResult, ChargeRequest, Connector, RefundRequest
from chalicelib.models.rows import payment_from_row, refund_from_row
from chalicelib.queue import enqueue, finish_sql, retry, sql
from chalicelib.queue.work_kind import Row, WorkKind, attempt_state, replayed_outcome

__all__ = ["ALL", "BY_STREAM", "OPERATIONS", "PAYMENTS", "REFUNDS", "Row", "WorkKind"]


def _inquiry_id(state: retry.NextState) -> str | None:
    return ids.new_id(ids.INQUIRY) if state.status == "PROCESSING" else None


# --------------------------------------------------------------------------- payments
def _charge(row: Row) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=row["charge_key"],
        payment_id=row["id"],
        amount=row["amount"],
        currency=row["currency"],
        method=row["method"],
        attempt=row["attempts"],
        vpa=row["vpa"],
        method_token=row["method_token"],
        bank=row["bank"],
        wallet=row["wallet"],
        capture=row["capture_method"] != "manual",
    )


def _authorize(connector: Connector, rows: list[Row]) -> Awaitable[list[AttemptResult]]:
    return connector.authorize_many([_charge(row) for row in rows])


def _authorize_one(connector: Connector, row: Row) -> Awaitable[AttemptResult]:
    return connector.authorize(_charge(row))


def _payment_values(row: Row, result: AttemptResult, now: datetime) -> dict[str, Any]:
    attempt = row["attempts"]
    result = replayed_outcome(row, result)
    state = retry.next_state(result.outcome, attempt, now)
    if state.status == "SUCCESS" and row["capture_method"] == "manual":
        state = state._replace(status="AUTHORIZED")  # authorized only: capture comes later
    code, message = result.failure_code, result.failure_message
    if state.exhausted:
        code = retry.EXHAUSTED_CODE
        message = f"The processor was unavailable on all {attempt} attempts"
    elif state.status != "FAILED":
        code = message = None
    return {
        "ids": row["id"],
        "claimed_ats": row["claimed_at"],
        "statuses": state.status,
        "attempts": attempt,
        "outcomes": result.outcome,
        "codes": code,
        "messages": message,
        "next_attempt_ats": state.next_attempt_at,
        "latencies": result.latency_ms,
        "attempt_codes": result.failure_code,
        "inquiry_ids": _inquiry_id(state),
    }


def _render_payment(row: Row) -> BaseModel:
    return payment_from_row(row)


PAYMENT_EVENTS = {
    "SUCCESS": "payment.succeeded",
    "FAILED": "payment.failed",
    "AUTHORIZED": "payment.authorized",
}

PAYMENTS = WorkKind(
    name="payments",
    stream=enqueue.PAYMENTS.stream,
    counter_prefix="",
    table=enqueue.PAYMENTS.table,
    call=_authorize,
    call_one=_authorize_one,
    finish_values=_payment_values,
    finish_statement=finish_sql.PAYMENTS,
    event_types=PAYMENT_EVENTS,
    render=_render_payment,
    crash_after_call=faults.AFTER_CHARGE,
    crash_after_commit=faults.AFTER_COMMIT,
    routed=True,
)


# --------------------------------------------------------------------------- refunds
def _refund_request(row: Row) -> RefundRequest:
    return RefundRequest(
        idempotency_key=row["id"],
        refund_id=row["id"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        attempt=row["attempts"],
        charge_key=row["charge_key"],
    )


def _refund(connector: Connector, rows: list[Row]) -> Awaitable[list[AttemptResult]]:
    return connector.refund_many([_refund_request(row) for row in rows])


def _refund_one(connector: Connector, row: Row) -> Awaitable[AttemptResult]:
    return connector.refund(_refund_request(row))


def _refund_values(row: Row, result: AttemptResult, now: datetime) -> dict[str, Any]:
    state, code = attempt_state(row, result, now)
    return {
        "ids": row["id"],
        "claimed_ats": row["claimed_at"],
        "statuses": state.status,
        "attempts": row["attempts"],
        "codes": code,
        "next_attempt_ats": state.next_attempt_at,
        "inquiry_ids": _inquiry_id(state),
    }


def _render_refund(row: Row) -> BaseModel:
    return refund_from_row(row)


REFUND_EVENTS = {"SUCCESS": "refund.succeeded", "FAILED": "refund.failed"}

REFUNDS = WorkKind(
    name="refunds",
    stream=enqueue.REFUNDS.stream,
    counter_prefix="refunds_",
    table=enqueue.REFUNDS.table,
    call=_refund,
    call_one=_refund_one,
    finish_values=_refund_values,
    finish_statement=finish_sql.REFUNDS,
    event_types=REFUND_EVENTS,
    render=_render_refund,
    crash_after_call=faults.REFUND_AFTER_CALL,
)


# --------------------------------------------------------------------------- inquiries
def _inquiry_values(
    row: Row, answer: Any, now: datetime, *, retry_after_void: bool
) -> dict[str, Any]:
    state = retry.inquiry_state(
        answer.status,
        row["attempts"],
        row["object_attempt"],
        row["first_unknown_at"],
        now,
        retry_after_void=retry_after_void,
        void_required=row["void_required"],
    )
    code = message = None
    if state.exhausted:
        code = retry.EXHAUSTED_CODE
        message = f"The processor was unavailable on all {row['object_attempt']} attempts"
        if not retry_after_void:
            message = "The acquirer did not answer; the refund was voided there, nothing moved"
    elif state.object_status == "FAILED":
        code, message = answer.failure_code, answer.failure_message
    return {
        "ids": row["id"],
        "claimed_ats": row["claimed_at"],
        "attempts": row["attempts"],
        "statuses": state.status,
        "resolutions": state.resolution,
        "next_attempt_ats": state.next_attempt_at,
        "flags": state.flag,
        "object_statuses": state.object_status,
        "object_next_attempt_ats": state.object_next_attempt_at,
        "codes": code,
        "messages": message,
        "void_requireds": state.void_required,
    }


def _payment_inquiry_values(row: Row, answer: Any, now: datetime) -> dict[str, Any]:
    # A payment voided at one connector is retried, under a new key (finish_sql).
    return _inquiry_values(row, answer, now, retry_after_void=True)


def _refund_inquiry_values(row: Row, answer: Any, now: datetime) -> dict[str, Any]:
    # A refund's key is spent by its void: the refund fails and its reservation is
    # released; the merchant may ask for a new one.
    return _inquiry_values(row, answer, now, retry_after_void=False)


# An inquiry settles: it asks, and voids by key where the acquirer has no record yet
# (`Connector.settle_payment`); `not_found` alone never settles anything.
def _settle_payments(connector: Connector, rows: list[Row]) -> Awaitable[list[Any]]:
    keys = [(row["object_key"], row["object_id"], row["void_required"]) for row in rows]
    return connector.settle_payments(keys)


def _settle_refunds(connector: Connector, rows: list[Row]) -> Awaitable[list[Any]]:
    return connector.settle_refunds([(row["object_key"], row["void_required"]) for row in rows])


def _settle_payment(connector: Connector, row: Row) -> Awaitable[Any]:
    return connector.settle_payment(row["object_key"], row["object_id"], row["void_required"])


def _settle_refund(connector: Connector, row: Row) -> Awaitable[Any]:
    return connector.settle_refund(row["object_key"], row["void_required"])


PAYMENT_INQUIRIES = WorkKind(
    name="payment_inquiries",
    stream=keys.PAYMENT_INQUIRIES_STREAM,
    counter_prefix="payment_inquiries_",
    table=sql.PAYMENT_INQUIRIES,
    call=_settle_payments,
    call_one=_settle_payment,
    finish_values=_payment_inquiry_values,
    finish_statement=finish_sql.PAYMENT_INQUIRIES,
    event_types=PAYMENT_EVENTS,
    render=_render_payment,
    crash_after_call=faults.INQUIRY_AFTER_CALL,
    is_attempt=False,
)

REFUND_INQUIRIES = WorkKind(
    name="refund_inquiries",
    stream=keys.REFUND_INQUIRIES_STREAM,
    counter_prefix="refund_inquiries_",
    table=sql.REFUND_INQUIRIES,
    call=_settle_refunds,
    call_one=_settle_refund,
    finish_values=_refund_inquiry_values,
    finish_statement=finish_sql.REFUND_INQUIRIES,
    event_types=REFUND_EVENTS,
    render=_render_refund,
    crash_after_call=faults.INQUIRY_AFTER_CALL,
    is_attempt=False,
)

# Captures and voids of authorizations (manual capture): their own module.
from chalicelib.queue.operation_kind import OPERATIONS  # noqa: E402

#: In the order a run drains them: settle unknown outcomes before new attempts.
ALL = (PAYMENT_INQUIRIES, REFUND_INQUIRIES, PAYMENTS, REFUNDS, OPERATIONS)
BY_STREAM = {kind.stream: kind for kind in ALL}
