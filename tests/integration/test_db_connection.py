"""`db.connection()` hands out pooled autocommit connections and takes them back safely.

It uses the pool's `getconn`/`putconn` directly (not the pool's `connection()`, whose
COMMIT on exit is a no-op on an autocommit connection at rest), so what happens to a
connection handed back in a transaction is the pool's `putconn`: a rollback, never a
commit.
"""

from __future__ import annotations

import uuid

import pytest
from psycopg import pq

from chalicelib import db


def _merchant_exists(merchant_id: str) -> bool:
    with db.connection() as conn:
        return conn.execute("SELECT 1 FROM merchants WHERE id = %s", (merchant_id,)).fetchone()


def test_a_connection_handed_back_inside_a_transaction_is_rolled_back() -> None:
    merchant_id = f"mer_test_{uuid.uuid4().hex}"
    with db.connection() as conn:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO merchants (id, name) VALUES (%s, 'left open')", (merchant_id,))
    assert not _merchant_exists(merchant_id)
    with db.connection() as conn:  # the pool's connections are at rest again
        assert conn.pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_an_error_inside_the_block_returns_the_connection_at_rest() -> None:
    merchant_id = f"mer_test_{uuid.uuid4().hex}"
    with pytest.raises(RuntimeError), db.connection() as conn:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO merchants (id, name) VALUES (%s, 'failed')", (merchant_id,))
        raise RuntimeError("the caller failed mid-transaction")
    assert not _merchant_exists(merchant_id)


def test_autocommit_statements_are_kept() -> None:
    merchant_id = f"mer_test_{uuid.uuid4().hex}"
    with db.connection() as conn:
        conn.execute("INSERT INTO merchants (id, name) VALUES (%s, 'kept')", (merchant_id,))
    assert _merchant_exists(merchant_id)
