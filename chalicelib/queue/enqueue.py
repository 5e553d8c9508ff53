"""Enqueue accepted work once its transaction has committed.

The accept path commits the row first; the stream gets the id afterwards. If
Redis refuses, the row is marked not enqueued so the next sweep takes it at once
(and if that fails too, the sweep finds it after the visibility timeout).
"""

from __future__ import annotations

from chalicelib import db
from chalicelib.queue import kinds, sql


def after_commit(uow: db.UnitOfWork, kind: kinds.WorkKind, object_id: str) -> None:
    """Add `object_id` to the kind's stream after `uow` commits; never if it rolls back."""
    uow.after_commit(lambda: enqueue_committed(kind, object_id))


def enqueue_committed(kind: kinds.WorkKind, object_id: str) -> None:
    """Add a committed id to the stream; if Redis fails, leave it to the sweep."""
    from chalicelib.queue import stream  # lazy: redis-py is not on the app's import path

    def mark_not_enqueued() -> None:
        with db.unit_of_work(write=False) as uow:
            sql.mark_not_enqueued(uow.conn, kind.table, object_id)

    stream.add_or_leave_to_sweep(kind.stream, object_id, mark_not_enqueued)
