"""Postgres connections: one lazily created pool per process, visible transactions.

The caller (a route's request pipeline, a scheduled handler, the CLI, a test) opens
a unit of work and passes it, or its connection, to the services; services never
open one. `unit_of_work()` commits on normal exit and rolls back on any error.
`connection()` is for the adapters that own their own round trip (health checks,
the test-mode connector's books).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib.errors import ServiceUnavailableError

# psycopg, its pool and the settings (pydantic) are imported on first use, not
# with the app: together they are most of a cold start, and the batch handlers and
# every module on the app's import path would pay for them before the first event.
if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

type Connection = psycopg.Connection[dict[str, Any]]  # rows are dicts (dict_row)

_lock = threading.Lock()
_pool: ConnectionPool[Connection] | None = None


def get_pool() -> ConnectionPool[Connection]:
    """The process-wide pool, opened on first use (keeps cold starts cheap)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                from psycopg.rows import dict_row
                from psycopg_pool import ConnectionPool

                from chalicelib import settings

                cfg = settings.get_settings()
                _pool = ConnectionPool(
                    settings.database_url(),
                    min_size=1,
                    max_size=cfg.db_pool_max_size,
                    kwargs={
                        "row_factory": dict_row,
                        "connect_timeout": max(1, int(cfg.db_connect_timeout_s)),
                        "autocommit": True,
                        # Statements are prepared server-side at once (saves a parse per
                        # request). The batch statements over 1,000-element arrays opt out
                        # (prepare=False): after five runs Postgres may switch a prepared
                        # statement to a generic plan, measured 4x slower for them.
                        "prepare_threshold": 0,
                    },
                    timeout=cfg.db_connect_timeout_s,
                    open=True,
                    name="gateway",
                )
                # Close on exit: the pool's worker threads otherwise hold the
                # interpreter up to 5 s each at shutdown.
                atexit.register(close_pool)
    return _pool


def close_pool() -> None:
    """Close the pool (tests and shutdown)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.close()
            _pool = None


def forget_pool() -> None:
    """Drop the pool without closing it (after a SnapStart restore).

    Its sockets were copied from a snapshot: closing them could end a session that
    another environment restored from the same snapshot holds. `get_pool()` opens anew.
    """
    global _pool
    with _lock:
        _pool = None


@contextmanager
def connection() -> Iterator[Connection]:
    """A pooled connection in autocommit mode, for single-statement reads.

    `getconn`/`putconn`, not the pool's `connection()`: that one also runs the
    connection's own `with` block, whose COMMIT (or ROLLBACK) on exit is a no-op on an
    autocommit connection at rest, for ~6 µs a request (measured). A connection handed
    back inside a transaction is rolled back by `putconn`, never committed.
    """
    import psycopg
    from psycopg_pool import PoolTimeout

    pool = get_pool()
    try:
        conn = pool.getconn()
        try:
            yield conn
        finally:
            pool.putconn(conn)
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise ServiceUnavailableError("The database is unavailable. Retry later.") from exc


@contextmanager
def transaction(pipelined: bool = False) -> Iterator[Connection]:
    """A pooled connection inside one transaction: committed on success, else rolled back.

    `pipelined=True` runs it in libpq's pipeline mode: BEGIN, and every statement whose
    result is not fetched, travel with the next one that is (or with the COMMIT), so a
    transaction costs a round trip per *fetch*, not per statement. An error is then
    raised at the next fetch or at the COMMIT, not by the `execute` that caused it, and
    `rowcount` is only known after a fetch: only callers written for that may use it.
    """
    with connection() as conn, _transaction_on(conn, pipelined):
        yield conn


@contextmanager
def _transaction_on(conn: Connection, pipelined: bool) -> Iterator[None]:
    import psycopg

    try:
        if pipelined:
            with pipelined_transaction(conn):
                yield
        else:
            with conn.transaction():
                yield
    except psycopg.OperationalError as exc:
        raise ServiceUnavailableError("The database is unavailable. Retry later.") from exc


@contextmanager
def pipelined_transaction(conn: Connection) -> Iterator[None]:
    """BEGIN and COMMIT as plain pipelined statements. (psycopg's `transaction()` waits
    for its BEGIN, and for everything before its COMMIT, each a round trip of its own.)
    BEGIN goes with the first fetched statement; COMMIT with the pipeline's closing Sync."""
    from psycopg import pq

    try:
        with conn.pipeline():
            conn.execute("BEGIN")
            yield
            conn.execute("COMMIT")
    except BaseException:
        # An error in the block, or one the closing Sync reported: the transaction may
        # still be open (or aborted); end it.
        if conn.pgconn.transaction_status != pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        raise


def as_columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Rows of equal keys as one list per key: the array parameters of a set-based
    statement (`unnest(%(ids)b::text[], ...)`)."""
    if not rows:
        return {}
    columns: dict[str, list[Any]] = {key: [] for key in rows[0]}
    for row in rows:
        for key, values in columns.items():
            values.append(row[key])
    return columns


class UnitOfWork:
    """One request's (or one step's) database work: a connection, inside a transaction
    when it writes, and the work to do once that has committed (e.g. XADD)."""

    def __init__(self, conn: Connection, writes: bool = True) -> None:
        self.conn = conn
        self.writes = writes
        self._after_commit: list[Callable[[], object]] = []
        self._on_error: list[Callable[[Exception, Connection], None]] = []

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback()` after a successful commit; never if the transaction rolls back."""
        self._after_commit.append(callback)

    def on_error(self, translate: Callable[[Exception, Connection], None]) -> None:
        """Let `translate(exc, conn)` raise the service's own error for a database error
        that ends the transaction. In pipeline mode a statement's error arrives with the
        COMMIT, after the service has returned (it does not wait for its statements):
        this is where the service still gets to say what it means. `conn` is the same
        connection, rolled back and idle, for a read that the answer needs."""
        self._on_error.append(translate)


@contextmanager
def unit_of_work(write: bool = True, pipelined: bool = False) -> Iterator[UnitOfWork]:
    """The unit of work that callers (routes, handlers, the CLI) open and pass to services.

    `write=True`: one transaction, committed on normal exit and rolled back on any
    error; after-commit callbacks run once it committed. `write=False`: a pooled
    connection in autocommit mode, for reads (no BEGIN/COMMIT round trips).
    `pipelined`: see `transaction` (the HTTP write routes use it).
    """
    if write:
        import psycopg

        with connection() as conn:
            uow = UnitOfWork(conn)
            try:
                with _transaction_on(conn, pipelined):
                    yield uow
            except psycopg.Error as exc:
                for translate in uow._on_error:
                    translate(exc, conn)
                raise
    else:
        with connection() as conn:
            uow = UnitOfWork(conn, writes=False)
            yield uow
    for callback in uow._after_commit:
        callback()
