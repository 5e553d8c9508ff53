"""The kinds of queued work, each a small description that the generic path runs.

A kind names its stream and table statements, the connector call for a claimed
batch, how one result becomes the row's finishing values, the finish statement,
and the events that a final status records. `execute.execute_batch` does the rest,
the same way for every kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib import faults
from chalicelib.connectors.base import AttemptResult, ChargeRequest, Connector, RefundRequest
from chalicelib.queue import keys, retry, sql

Row = dict[str, Any]


@dataclass(frozen=True)
class WorkKind:
    """One kind of queued work."""

    name: str
    stream: str
    #: prefix of this kind's counters in the run summary ("" for payments)
    counter_prefix: str
    table: sql.QueuedTable
    #: the connector calls for a claimed batch, in the batch's order
    call: Callable[[Connector, list[Row]], Awaitable[list[AttemptResult]]]
    #: one claimed row and its result → the values of the finish statement's arrays
    finish_values: Callable[[Row, AttemptResult, datetime], dict[str, Any]]
    finish_statement: str
    #: final status → event type recorded in the finishing transaction
    event_types: dict[str, str]
    #: a finished row → the API object that the event carries
    render: Callable[[Row], BaseModel]
    crash_after_call: str
    crash_after_commit: str | None = None


# --------------------------------------------------------------------------- payments
def _charge_request(row: Row) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=row["id"],
        payment_id=row["id"],
        amount=row["amount"],
        currency=row["currency"],
        method=row["method"],
        attempt=row["attempts"],
        vpa=row["vpa"],
        method_token=row["method_token"],
        bank=row["bank"],
        wallet=row["wallet"],
    )


def _authorize(connector: Connector, rows: list[Row]) -> Awaitable[list[AttemptResult]]:
    return connector.authorize_many([_charge_request(r) for r in rows])


def _payment_values(row: Row, result: AttemptResult, now: datetime) -> dict[str, Any]:
    attempt = row["attempts"]
    state = retry.next_state(result.outcome, attempt, now)
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
    }


def _render_payment(row: Row) -> BaseModel:
    from chalicelib.services.payments import payment_from_row

    return payment_from_row(row)


PAYMENTS = WorkKind(
    name="payments",
    stream=keys.PAYMENTS_STREAM,
    counter_prefix="",
    table=sql.PAYMENTS,
    call=_authorize,
    finish_values=_payment_values,
    finish_statement=sql.FINISH_PAYMENTS,
    event_types={"SUCCESS": "payment.succeeded", "FAILED": "payment.failed"},
    render=_render_payment,
    crash_after_call=faults.AFTER_CHARGE,
    crash_after_commit=faults.AFTER_COMMIT,
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
    )


def _refund(connector: Connector, rows: list[Row]) -> Awaitable[list[AttemptResult]]:
    return connector.refund_many([_refund_request(r) for r in rows])


def _refund_values(row: Row, result: AttemptResult, now: datetime) -> dict[str, Any]:
    state = retry.next_state(result.outcome, row["attempts"], now)
    code = None
    if state.exhausted:
        code = retry.EXHAUSTED_CODE
    elif state.status == "FAILED":
        code = result.failure_code
    return {
        "ids": row["id"],
        "claimed_ats": row["claimed_at"],
        "statuses": state.status,
        "attempts": row["attempts"],
        "codes": code,
        "next_attempt_ats": state.next_attempt_at,
    }


def _render_refund(row: Row) -> BaseModel:
    from chalicelib.services.refunds import refund_from_row

    return refund_from_row(row)


REFUNDS = WorkKind(
    name="refunds",
    stream=keys.REFUNDS_STREAM,
    counter_prefix="refunds_",
    table=sql.REFUNDS,
    call=_refund,
    finish_values=_refund_values,
    finish_statement=sql.FINISH_REFUNDS,
    event_types={"SUCCESS": "refund.succeeded", "FAILED": "refund.failed"},
    render=_render_refund,
    crash_after_call=faults.REFUND_AFTER_CALL,
)

#: In the order a run drains them.
ALL = (PAYMENTS, REFUNDS)
BY_STREAM = {kind.stream: kind for kind in ALL}
