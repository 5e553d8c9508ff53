"""Postgres connections: one lazily created pool per process, visible transactions.

Services receive a connection that is already inside a transaction; they never
open one. `transaction()` commits on normal exit and rolls back on any error.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from chalicelib.errors import ServiceUnavailableError

# psycopg, its pool and the settings (pydantic-settings) are imported on first use, not
# with the app: together they are most of a cold start, and the batch handlers and
# every module on the app's import path would pay for them before the first event.
if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

type Connection = psycopg.Connection[dict]

_lock = threading.Lock()
_pool: ConnectionPool | None = None


def get_pool() -> ConnectionPool:
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
    """A pooled connection in autocommit mode, for single-statement reads."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        with get_pool().connection() as conn:
            yield conn
    except (PoolTimeout, psycopg.OperationalError) as exc:
        raise ServiceUnavailableError("The database is unavailable. Retry later.") from exc


@contextmanager
def transaction() -> Iterator[Connection]:
    """A pooled connection inside one transaction: committed on success, else rolled back."""
    import psycopg

    with connection() as conn:
        try:
            with conn.transaction():
                yield conn
        except psycopg.OperationalError as exc:
            raise ServiceUnavailableError("The database is unavailable. Retry later.") from exc


class UnitOfWork:
    """A transaction and the work to do once it has committed (e.g. XADD)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._after_commit: list = []

    def after_commit(self, callback) -> None:  # type: ignore[no-untyped-def]
        """Run `callback()` after a successful commit; never if the transaction rolls back."""
        self._after_commit.append(callback)


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """One transaction; after-commit callbacks run once it committed."""
    with transaction() as conn:
        uow = UnitOfWork(conn)
        yield uow
    for callback in uow._after_commit:
        callback()
