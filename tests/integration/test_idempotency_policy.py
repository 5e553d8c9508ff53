"""Idempotency records against real Postgres: the 500 policy, and pruning past the TTL.

Policy: a request that fails with a 500 rolls back everything it did, the key's
record included, so a retry with the same key executes afresh. The fault is
injected with a monkeypatched repository function that raises *after* its
insert ran, inside the request's transaction (no cursor or Redis call is mocked).
"""

from __future__ import annotations

import json
import uuid

import pytest
from chalice.app import ScheduledEventConfig
from chalice.test import Client

import app as app_module
from chalicelib import db
from chalicelib.handlers import prune_idempotency_keys
from chalicelib.repository import idempotency as idempotency_repo
from chalicelib.repository import payments as payment_repo
from chalicelib.repository import refunds as refund_repo
from tests.integration.service_fixtures import successful_payment_id
from tests.support import ROOT, FakeContext


class InjectedFault(RuntimeError):
    pass


@pytest.fixture
def client():
    with Client(app_module.app, stage_name="test", project_dir=str(ROOT)) as test_client:
        yield test_client


def _post(client, merchant, path, body, key):
    return client.http.post(
        path,
        headers={
            "Authorization": f"Bearer {merchant.api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        body=json.dumps(body).encode(),
    )


def _fail_after(monkeypatch, module, name):
    original = getattr(module, name)

    def insert_then_fail(*args, **kwargs):
        row = original(*args, **kwargs)
        assert row is not None  # the insert really happened in this transaction
        raise InjectedFault("crash after the insert, before the commit")

    monkeypatch.setattr(module, name, insert_then_fail)


def test_500_rolls_back_the_key_and_a_retry_executes_afresh(client, merchant, monkeypatch):
    key = f"key_{uuid.uuid4().hex}"
    order_id = f"order_{uuid.uuid4().hex[:16]}"
    body = {"order_id": order_id, "amount": 1234, "currency": "INR", "method": "upi"}

    _fail_after(monkeypatch, payment_repo, "insert_payment_with_history")
    failed = _post(client, merchant, "/api/v1/payments", body, key)
    assert failed.status_code == 500
    assert json.loads(failed.body)["error"] == {
        "type": "api_error",
        "code": "internal_error",
        "message": "An internal error occurred. The request can be retried safely.",
    }
    with db.connection() as conn:
        assert not conn.execute(
            "SELECT 1 FROM payments WHERE merchant_id = %s AND order_id = %s",
            (merchant.merchant_id, order_id),
        ).fetchall()
        assert not conn.execute(
            "SELECT 1 FROM idempotency_keys WHERE merchant_id = %s AND key = %s",
            (merchant.merchant_id, key),
        ).fetchall()

    monkeypatch.undo()
    retried = _post(client, merchant, "/api/v1/payments", body, key)
    assert retried.status_code == 202, retried.body
    assert "Idempotent-Replayed" not in retried.headers
    replay = _post(client, merchant, "/api/v1/payments", body, key)
    assert replay.status_code == 202 and replay.body == retried.body
    assert replay.headers["Idempotent-Replayed"] == "true"
    with db.connection() as conn:
        assert (
            len(
                conn.execute(
                    "SELECT 1 FROM payments WHERE merchant_id = %s AND order_id = %s",
                    (merchant.merchant_id, order_id),
                ).fetchall()
            )
            == 1
        )


def _key_rows(conn, merchant_id, key):
    return conn.execute(
        "SELECT 1 FROM idempotency_keys WHERE merchant_id = %s AND key = %s", (merchant_id, key)
    ).fetchall()


def test_a_crash_after_the_key_is_recorded_leaves_neither_key_nor_payment(
    client, merchant, monkeypatch
):
    """The fault comes after the idempotency record is written (and seen in the request's
    own transaction), so this fails if the record or the payment outlives a 500: e.g. a
    unit of work that commits on error, or a policy that stores 500s."""
    key = f"key_{uuid.uuid4().hex}"
    order_id = f"order_{uuid.uuid4().hex[:16]}"
    body = {"order_id": order_id, "amount": 4321, "currency": "INR", "method": "upi"}
    original = idempotency_repo.insert_record
    seen_in_transaction = []

    def record_then_fail(conn, merchant_id, key_, *args, **kwargs):
        original(conn, merchant_id, key_, *args, **kwargs)
        seen_in_transaction.append(bool(_key_rows(conn, merchant_id, key_)))
        raise InjectedFault("crash after the idempotency record, before the commit")

    monkeypatch.setattr(idempotency_repo, "insert_record", record_then_fail)
    failed = _post(client, merchant, "/api/v1/payments", body, key)
    assert failed.status_code == 500
    assert seen_in_transaction == [True]
    with db.connection() as conn:
        assert not _key_rows(conn, merchant.merchant_id, key)
        assert not conn.execute(
            "SELECT 1 FROM payments WHERE merchant_id = %s AND order_id = %s",
            (merchant.merchant_id, order_id),
        ).fetchall()
    monkeypatch.undo()
    retried = _post(client, merchant, "/api/v1/payments", body, key)
    assert retried.status_code == 202, retried.body
    assert "Idempotent-Replayed" not in retried.headers


def test_500_during_a_refund_releases_the_reservation(client, merchant, monkeypatch, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 2_000)
    key = f"key_{uuid.uuid4().hex}"
    path = f"/api/v1/payments/{payment_id}/refunds"

    _fail_after(monkeypatch, refund_repo, "reserve_and_insert_for_merchant")
    assert _post(client, merchant, path, {"amount": 2_000}, key).status_code == 500
    with db.connection() as conn:
        row = conn.execute(
            "SELECT amount_refund_reserved, (SELECT count(*) FROM refunds"
            " WHERE payment_id = %(id)s) AS refunds FROM payments WHERE id = %(id)s",
            {"id": payment_id},
        ).fetchone()
    assert (row["amount_refund_reserved"], row["refunds"]) == (0, 0)

    monkeypatch.undo()
    retried = _post(client, merchant, path, {"amount": 2_000}, key)
    assert retried.status_code == 202 and json.loads(retried.body)["amount"] == 2_000


def _store(merchant_id: str, key: str, age_hours: float) -> None:
    with db.transaction() as conn:
        idempotency_repo.insert_record(conn, merchant_id, key, "hash", 202, {}, b"{}")
        conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - make_interval(hours => %s)"
            " WHERE merchant_id = %s AND key = %s",
            (age_hours, merchant_id, key),
        )


def _keys(merchant_id: str) -> set[str]:
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT key FROM idempotency_keys WHERE merchant_id = %s", (merchant_id,)
        ).fetchall()
    return {r["key"] for r in rows}


def test_prune_removes_only_records_past_the_ttl(merchant):
    for key, age in (("old-1", 25), ("old-2", 48), ("young", 23), ("new", 0)):
        _store(merchant.merchant_id, key, age)

    summary = prune_idempotency_keys.prune(FakeContext(), batch=1)  # several small batches
    assert summary["pruned"] >= 2 and summary["batches"] >= 3
    assert isinstance(summary["duration_ms"], float)
    assert _keys(merchant.merchant_id) == {"young", "new"}


def test_prune_is_an_hourly_scheduled_handler(merchant):
    from workers.scheduler import discover

    sources = [
        s
        for s in app_module.app.event_sources
        if isinstance(s, ScheduledEventConfig) and s.name == "prune_idempotency_keys"
    ]
    assert len(sources) == 1
    assert sources[0].schedule_expression.value == 1
    assert sources[0].schedule_expression.unit == "HOURS"

    _store(merchant.merchant_id, "stale", 30)
    handler = next(h for h in discover("test") if h.name == "prune_idempotency_keys")
    assert handler.rate_s == 3600
    result = handler.invoke()  # an EventBridge-shaped event and a Lambda context
    assert result["handler"] == "prune_idempotency_keys"
    assert result["pruned"] >= 1 and "error" not in result
    assert "stale" not in _keys(merchant.merchant_id)
