"""SQL shared by every table whose rows are queued on a stream (payments, refunds).

Such a table has `status`, `next_attempt_at`, `enqueued_at` and
`processing_started_at`. CHECK constraints keep `next_attempt_at` set exactly while
a row is open (PENDING or PROCESSING) and `processing_started_at` exactly while it
is PROCESSING, and one partial index holds the open rows by `next_attempt_at`
(migration 0005). The statements are built once per table at import, from a
constant table name.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import Connection


def sweep_statement(table: str) -> str:
    """Open rows that are due — PENDING ones, and PROCESSING ones whose handler died —
    and were not added to the stream within the visibility timeout, oldest due
    first. A claim keeps `next_attempt_at`, so both kinds are in the due index. The
    outer status test is re-checked on rows that changed while the statement waited
    for their lock."""
    return f"""
UPDATE {table} t SET enqueued_at = %(now)s
WHERE t.status IN ('PENDING', 'PROCESSING')
  AND t.id IN (
    SELECT id FROM {table}
    WHERE next_attempt_at <= %(now)s
      AND (enqueued_at IS NULL OR enqueued_at < %(stale_before)s)
      AND (status = 'PENDING' OR processing_started_at < %(stale_before)s)
    ORDER BY next_attempt_at LIMIT %(limit)s)
RETURNING t.id
"""


def park_statement(table: str) -> str:
    """A dead-lettered row is parked: the sweep skips it until an operator replays it."""
    return f"UPDATE {table} SET enqueued_at = 'infinity' WHERE id = ANY(%(ids)b::text[])"


def unpark_statement(table: str) -> str:
    return f"""
UPDATE {table} SET enqueued_at = %(now)s
WHERE id = ANY(%(ids)b::text[]) AND enqueued_at = 'infinity'
  AND status IN ('PENDING', 'PROCESSING')
RETURNING id
"""


def run_sweep(
    conn: Connection, statement: str, now: datetime, stale_before: datetime, limit: int
) -> list[str]:
    rows = conn.execute(
        statement, {"now": now, "stale_before": stale_before, "limit": limit}, prepare=False
    ).fetchall()
    return [r["id"] for r in rows]


def run_park(conn: Connection, statement: str, ids: list[str]) -> None:
    conn.execute(statement, {"ids": ids}, prepare=False)


def run_unpark(conn: Connection, statement: str, ids: list[str], now: datetime) -> list[str]:
    """The ids that were parked and are not final, now back in the queue."""
    return [
        r["id"] for r in conn.execute(statement, {"ids": ids, "now": now}, prepare=False).fetchall()
    ]
