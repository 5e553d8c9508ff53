"""The queue columns' invariants, held by the database (migration 0005).

A claim is a heap-only update because it changes no indexed column; the rules it
relies on are CHECK constraints and a partial unique index, so they hold for any
writer, not only for our statements.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from chalicelib import db
from chalicelib.clock import utcnow
from chalicelib.queue import finish_sql
from chalicelib.queue import sql as queue_sql
from tests.integration.service_fixtures import accept_payments
from tests.support import wait_until

# The columns a claim sets (queue/sql.py: `queued_table(...).claim`).
CLAIM_COLUMNS = {"status", "attempts", "processing_started_at", "updated_at"}

INDEXED_COLUMNS = """
SELECT i.indexrelid::regclass::text AS index, a.attname AS column_name
FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = %(table)s::regclass
UNION ALL
SELECT i.indexrelid::regclass::text,
       coalesce(pg_get_expr(i.indpred, i.indrelid), '') || ' '
       || coalesce(pg_get_expr(i.indexprs, i.indrelid), '')
FROM pg_index i
WHERE i.indrelid = %(table)s::regclass AND (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL)
"""


@pytest.mark.parametrize("table", ["payments", "refunds"])
def test_no_index_reads_a_column_the_claim_writes(table: str) -> None:
    """Otherwise every claim writes a new entry in every index (about 2x its cost)."""
    with db.connection() as conn:
        rows = conn.execute(INDEXED_COLUMNS, {"table": table}).fetchall()
        options = conn.execute(
            "SELECT reloptions FROM pg_class WHERE oid = %s::regclass", (table,)
        ).fetchone()
    assert rows, "the catalog query found no index"
    for row in rows:
        words = set(row["column_name"].replace("(", " ").replace(")", " ").split())
        assert not words & CLAIM_COLUMNS, f"{row['index']} reads {words & CLAIM_COLUMNS}"
    # Room for every claimed row's new version; a payment's claim also writes its
    # connector (migration 0006), a few bytes more.
    fillfactor = {"payments": "fillfactor=45", "refunds": "fillfactor=50"}[table]
    assert fillfactor in (options["reloptions"] or []), "room for the claimed version"


def test_claims_are_heap_only_updates(merchant: Any) -> None:
    """Every claimed version that found room on its row's page is a heap-only update.

    A row accepted into a page that vacuum had freed earlier may find no room there for
    its claimed version (a long-used database has such pages); that update goes to
    another page and cannot be HOT whatever the indexes. The others must all be HOT:
    if an index read a claimed column, none would be.
    """
    payment_ids = accept_payments(merchant.merchant_id, 200)
    pages_before = _pages(payment_ids)
    before = _hot_updates()
    now = utcnow()
    with db.connection() as conn:
        with conn.transaction():
            claimed = queue_sql.claim(
                conn, queue_sql.PAYMENTS, payment_ids, now, now - timedelta(seconds=60)
            )
        # This backend publishes its statistics at the end of its next transaction.
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("SELECT 1")
    assert len(claimed) == 200
    pages_after = _pages(payment_ids)
    same_page = sum(pages_after[i] == pages_before[i] for i in payment_ids)
    assert same_page >= 100, f"only {same_page} of 200 claimed versions stayed on their page"
    # Other tests may update payments meanwhile, so the count may grow by more.
    wait_until(lambda: _hot_updates() - before >= same_page, timeout=15)


def _pages(payment_ids: list[str]) -> dict[str, int]:
    """The heap page holding each row's current version."""
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT id, (ctid::text::point)[0]::int AS page FROM payments WHERE id = ANY(%s)",
            (payment_ids,),
        ).fetchall()
    return {r["id"]: r["page"] for r in rows}


def _hot_updates() -> int:
    with db.connection() as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'payments'"
        ).fetchone()
    return int(row["n_tup_hot_upd"])


def test_the_order_rule_holds_for_any_writer(merchant: Any) -> None:
    """Bypassing the API: a failed payment cannot come back while its order has
    another active payment, nor can a status and its release disagree."""
    order_id = f"ord_{uuid.uuid4().hex[:10]}"
    first, second = _payment_id(merchant, order_id), None
    with db.transaction() as conn:
        conn.execute(
            "UPDATE payments SET status = 'FAILED', released_at = now(),"
            " next_attempt_at = NULL WHERE id = %s",
            (first,),
        )
    second = _payment_id(merchant, order_id)  # the order is free again
    assert second != first
    revive = (
        "UPDATE payments SET status = 'SUCCESS', released_at = NULL, next_attempt_at = NULL"
        " WHERE id = %s"
    )
    with pytest.raises(psycopg.errors.UniqueViolation), db.transaction() as conn:
        conn.execute(revive, (first,))
    disagree = "UPDATE payments SET status = 'SUCCESS', next_attempt_at = NULL WHERE id = %s"
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction() as conn:
        conn.execute(disagree, (first,))
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction() as conn:
        conn.execute("UPDATE payments SET next_attempt_at = NULL WHERE id = %s", (second,))
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction() as conn:
        conn.execute("UPDATE payments SET status = 'PROCESSING' WHERE id = %s", (second,))


def _payment_id(merchant: Any, order_id: str) -> str:
    from chalicelib.models.payments import CreatePaymentRequest
    from chalicelib.services import payments as payment_service

    request = CreatePaymentRequest.model_validate(
        {"order_id": order_id, "amount": 500, "currency": "INR", "method": "upi"}
    )
    with db.unit_of_work() as uow:
        return payment_service.create_payment(uow, merchant.merchant_id, request).id


def test_a_presumed_dead_claim_cannot_finish_over_a_newer_claim(merchant: Any) -> None:
    """Handler A claims, stalls past the visibility timeout; handler B claims the same
    rows again (same attempt). A's late finish writes nothing; B's is the result."""
    payment_ids = accept_payments(merchant.merchant_id, 3)
    t_a = utcnow()
    with db.transaction() as conn:
        claim_a = queue_sql.claim(
            conn, queue_sql.PAYMENTS, payment_ids, t_a, t_a - timedelta(seconds=60)
        )
    t_b = t_a + timedelta(seconds=120)
    with db.transaction() as conn:
        claim_b = queue_sql.claim(
            conn, queue_sql.PAYMENTS, payment_ids, t_b, t_b - timedelta(seconds=60)
        )
    assert len(claim_a) == len(claim_b) == 3
    assert {r["attempts"] for r in claim_a} == {r["attempts"] for r in claim_b} == {1}

    def finish(claimed: list[dict[str, Any]], status: str, at: Any) -> list[dict[str, Any]]:
        n = len(claimed)
        columns = {
            "ids": [r["id"] for r in claimed],
            "claimed_ats": [r["claimed_at"] for r in claimed],
            "statuses": [status] * n,
            "attempts": [r["attempts"] for r in claimed],
            "outcomes": ["declined" if status == "FAILED" else "succeeded"] * n,
            "codes": ["card_declined" if status == "FAILED" else None] * n,
            "messages": [None] * n,
            "next_attempt_ats": [None] * n,
            "latencies": [0] * n,
            "attempt_codes": [None] * n,
            "inquiry_ids": [None] * n,
            "inquiry_due": at,
        }
        with db.transaction() as conn:
            return queue_sql.finish(conn, finish_sql.PAYMENTS, columns, at)

    assert finish(claim_a, "FAILED", t_b) == []
    assert {r["status"] for r in finish(claim_b, "SUCCESS", t_b)} == {"SUCCESS"}
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT status, released_at, next_attempt_at, processing_started_at"
            " FROM payments WHERE id = ANY(%s)",
            (payment_ids,),
        ).fetchall()
    assert (
        rows
        == [
            {
                "status": "SUCCESS",
                "released_at": None,
                "next_attempt_at": None,
                "processing_started_at": None,
            }
        ]
        * 3
    )
