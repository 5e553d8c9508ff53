"""Captures and voids of manual-capture payments' authorizations: one kind of queued work.

An operation goes to its payment's connector, under its own key (its id), naming the
authorization by the key it was made under. A fresh claim calls `capture` or `void`;
a claim of a row left PROCESSING — its handler died mid-call, or its answer was lost
(`unknown`) — settles it instead (`Connector.settle_operation`: ask first, then the
same call under the same key). It never moves to another connector, and no second
operation of the same payment is created while one is open or after one succeeded
(`payment_operations_one_per_payment`): never two captures, never a capture after a
void. `transient_error` (certainly not acted) retries with backoff; a decline fails
the operation and leaves the payment AUTHORIZED.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib import faults
from chalicelib.connectors.base import AttemptResult, Connector, OperationRequest
from chalicelib.models.rows import payment_from_row
from chalicelib.queue import enqueue, finish_sql
from chalicelib.queue.work_kind import Row, WorkKind, attempt_state


def operation_request(row: Row) -> OperationRequest:
    return OperationRequest(
        type=row["type"],
        idempotency_key=row["id"],
        charge_key=row["charge_key"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        attempt=row["attempts"],
    )


def _call_one(connector: Connector, row: Row) -> Awaitable[AttemptResult]:
    request = operation_request(row)
    if row.get("previous_status") == "PROCESSING":  # a lost answer: settle, never guess
        return connector.settle_operation(request)
    return connector.capture(request) if request.type == "capture" else connector.void(request)


async def _call(connector: Connector, rows: list[Row]) -> list[AttemptResult]:
    import asyncio  # lazy, as in the connectors: only the drain calls them

    return list(await asyncio.gather(*(_call_one(connector, row) for row in rows)))


def _values(row: Row, result: AttemptResult, now: datetime) -> dict[str, Any]:
    state, code = attempt_state(row, result, now)
    return {
        "ids": row["id"],
        "claimed_ats": row["claimed_at"],
        "statuses": state.status,
        "attempts": row["attempts"],
        "codes": code,
        "next_attempt_ats": state.next_attempt_at,
        "latencies": result.latency_ms,
    }


def _render(row: Row) -> BaseModel:
    return payment_from_row(row)


OPERATIONS = WorkKind(
    name="payment_operations",
    stream=enqueue.OPERATIONS.stream,
    counter_prefix="operations_",
    table=enqueue.OPERATIONS.table,
    call=_call,
    call_one=_call_one,
    finish_values=_values,
    finish_statement=finish_sql.OPERATIONS,
    event_types={
        "SUCCESS": ("payment.captured", "payment.succeeded"),
        "CANCELLED": "payment.cancelled",
    },
    render=_render,
    crash_after_call=faults.OPERATION_AFTER_CALL,
    status_column="operation_status",
)
