"""Enqueue accepted work once its transaction has committed.

The accept path commits the row first; the stream gets the id afterwards. If
Redis refuses, the row is marked not enqueued so the next sweep takes it at once
(and if that fails too, the sweep finds it after the visibility timeout).

A `Queue` is where one kind's accepted work goes, its stream and its table, and
nothing of how it is processed: the accept path imports this module, not `kinds`
(whose connector requests, results and finish statements a cold start's first
create would otherwise import, ~10 ms). `kinds` builds each kind on its queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.queue import sql


@dataclass(frozen=True)
class Queue:
    """The Redis stream and the table of one kind of accepted work."""

    stream: str
    table: sql.QueuedTable


PAYMENTS = Queue(keys.PAYMENTS_STREAM, sql.PAYMENTS)
REFUNDS = Queue(keys.REFUNDS_STREAM, sql.REFUNDS)
OPERATIONS = Queue(keys.PAYMENT_OPERATIONS_STREAM, sql.OPERATIONS)


def after_commit(uow: db.UnitOfWork, queue: Queue, object_id: str) -> None:
    """Add `object_id` to the queue's stream after `uow` commits; never if it rolls back."""
    uow.after_commit(lambda: enqueue_committed(queue, object_id))


def enqueue_committed(queue: Queue, object_id: str) -> None:
    """Add a committed id to the stream; if Redis fails, leave it to the sweep."""
    from chalicelib.queue import stream  # lazy: redis-py is not on the app's import path

    def mark_not_enqueued() -> None:
        with db.unit_of_work(write=False) as uow:
            sql.mark_not_enqueued(uow.conn, queue.table, object_id)

    stream.add_or_leave_to_sweep(queue.stream, object_id, mark_not_enqueued)
