"""The one execute-and-finish path, the same for every kind of work.

  call    — the connector calls of a claimed batch run concurrently, each keyed by
            the row's id, so a redelivered row is never charged or refunded twice;
  finish  — every result, its history and its events (the transactional outbox)
            commit in one set-based statement and one transaction.
A crash between the two is safe: the stream entry comes back after the visibility
timeout, the row is claimed again at the same attempt, and the connector replays
the answer it already gave.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from chalicelib import db, faults
from chalicelib.clock import utcnow
from chalicelib.connectors import get_connector
from chalicelib.queue import retry, sql
from chalicelib.queue.kinds import Row, WorkKind
from chalicelib.services import events


def execute_batch(kind: WorkKind, claimed: list[Row], summary: Counter[str]) -> None:
    """Run the connector calls of a claimed batch, then write every result at once."""
    results = asyncio.run(kind.call(get_connector(), claimed))
    faults.crash_point(kind.crash_after_call)
    now = utcnow()
    columns = db.as_columns(
        [kind.finish_values(row, result, now) for row, result in zip(claimed, results, strict=True)]
    )
    with db.unit_of_work() as uow:
        finished = sql.finish(uow.conn, kind.finish_statement, columns, now)
        events.record_payment_events(
            uow.conn,
            [
                (row["merchant_id"], kind.event_types[row["status"]], kind.render(row))
                for row in finished
                if row["status"] in kind.event_types
            ],
        )
    retry.count(summary, kind.counter_prefix, [row["status"] for row in finished])
    if kind.crash_after_commit:
        faults.crash_point(kind.crash_after_commit)
