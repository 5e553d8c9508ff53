"""The shape of one kind of queued work (`kinds.py` lists them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from chalicelib.connectors.base import AttemptResult, Connector
from chalicelib.queue import retry, sql
from chalicelib.queue.retry import NextState

Row = dict[str, Any]


@dataclass(frozen=True)
class WorkKind:
    """One kind of queued work."""

    name: str
    stream: str
    #: prefix of this kind's counters in the run summary ("" for payments)
    counter_prefix: str
    table: sql.QueuedTable
    #: one connector's calls for its rows of a claimed batch, in their order
    call: Callable[[Connector, list[Row]], Awaitable[list[Any]]]
    #: the call for one row (connectors that answer each call on its own)
    call_one: Callable[[Connector, Row], Awaitable[Any]]
    #: one claimed row and its answer → the values of the finish statement's arrays
    finish_values: Callable[[Row, Any, datetime], dict[str, Any]]
    finish_statement: str
    #: final status → event type(s) recorded in the finishing transaction
    event_types: Mapping[str, str | tuple[str, ...]]
    #: a finished row → the API object that the event carries
    render: Callable[[Row], BaseModel]
    crash_after_call: str
    crash_after_commit: str | None = None
    #: attempts (not inquiries): their answers feed the breakers and connector metrics
    is_attempt: bool = True
    #: routed at the claim (payments): the claim gets the router's parameters
    routed: bool = False
    #: the column of a finished row that the run's summary counts (its own status)
    status_column: str = "status"


def replayed_outcome(row: Row, result: AttemptResult) -> AttemptResult:
    """A re-claimed attempt (its handler died mid-call) replays a key whose first call may
    have acted: an answer that says only "not acted on *this* time" proves nothing of the
    first, so it is unknown, and an inquiry settles it."""
    if row.get("previous_status") == "PROCESSING" and result.outcome == "transient_error":
        return AttemptResult(
            "unknown", "acquirer_unknown", "a replay after a lost call was not processed",
            result.latency_ms,
        )  # fmt: skip
    return result


def attempt_state(row: Row, result: AttemptResult, now: datetime) -> tuple[NextState, str | None]:
    """A refund's or an operation's next state after `result` (a replay's "not acted on"
    is unknown: `replayed_outcome`) and the failure code it records: the exhausted code,
    the connector's own when it failed, else none."""
    result = replayed_outcome(row, result)
    state = retry.next_state(result.outcome, row["attempts"], now)
    if state.exhausted:
        return state, retry.EXHAUSTED_CODE
    return state, result.failure_code if state.status == "FAILED" else None
