"""Operator functions: queue health and the dead letters (list, replay).

The caller (the admin CLI, an operator route) opens the unit of work and passes
it in; stream writes happen after it commits.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.clock import utcnow
from chalicelib.queue import kinds, sql, stream
from chalicelib.repository import orphan_charges as orphan_repo


def queue_stats(conn: db.Connection) -> dict[str, Any]:
    """Stream length, pending entries, oldest pending age, retries scheduled, dead letters,
    unknown outcomes waiting for inquiries and those flagged for the operator, and the
    orphan charges reconciliation found."""
    stream.ensure_group(keys.PAYMENTS_STREAM)
    info = stream.pending_summary(keys.PAYMENTS_STREAM)
    inquiries = sql.count_open_inquiries(conn)
    return {
        "stream": keys.PAYMENTS_STREAM,
        "length": info["length"],
        "pending": info["pending"],
        "oldest_pending_age_s": info["oldest_pending_age_s"],
        "retry_scheduled": sql.count_payment_retries_scheduled(conn),
        "dead_letters": info["dead_letters"],
        # attempts whose outcome is unknown, waiting for an inquiry to settle them
        "unknown_payment_attempts": inquiries["payment"]["open"],
        "unknown_refund_attempts": inquiries["refund"]["open"],
        # captures and voids (manual capture) whose answer was lost, being settled
        "unknown_operations": sql.count_unknown_operations(conn),
        # of those, the ones the acquirer has not answered for INQUIRY_FLAG_AFTER_S
        "flagged_payments": inquiries["payment"]["flagged"],
        "flagged_refunds": inquiries["refund"]["flagged"],
        # charges at an acquirer that no SUCCESS payment stands on (reconciliation):
        # found, reversed at the acquirer, or whose reversal failed (tried again)
        "orphan_charges": orphan_repo.count_by_status(conn),
    }


def list_dead_letters(count: int = 100) -> list[dict[str, str]]:
    """The newest dead letters: stream, id, error, deliveries."""
    return stream.list_dead_letters(count)


def replay_dead_letters(
    uow: db.UnitOfWork, dead_letter_ids: list[str] | None = None
) -> dict[str, int]:
    """Put dead-lettered work back on its stream (all, or the given dead letters).

    The rows are unparked in the caller's transaction; their ids go back on the
    stream and the dead letters are removed once it has committed.
    """
    letters = stream.list_dead_letters(10_000)
    if dead_letter_ids:
        wanted = set(dead_letter_ids)
        letters = [d for d in letters if d["dead_letter_id"] in wanted]
    replayed = 0
    now = utcnow()
    for kind in kinds.ALL:
        ids = [d["id"] for d in letters if d.get("stream") == kind.stream]
        if not ids:
            continue
        requeued = sql.unpark(uow.conn, kind.table, ids, now)
        uow.after_commit(functools.partial(stream.add, kind.stream, requeued))
        replayed += len(requeued)
    removed = [d["dead_letter_id"] for d in letters]
    uow.after_commit(lambda: stream.delete_dead_letters(removed))
    return {"replayed": replayed, "removed": len(letters)}
