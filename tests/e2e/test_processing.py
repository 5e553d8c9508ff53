"""Payments created over HTTP and processed by the scheduler reach docs/api.md's outcomes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid

import httpx
import pytest

from chalicelib import db
from tests.support import ROOT, wait_until

CARD = {"exp_month": 12, "exp_year": 2099, "cvc": "123"}

# (details, status, failure_code, attempts)
TEST_MODE_TABLE = [
    ({"method": "upi"}, "SUCCESS", None, 1),
    ({"method": "upi", "vpa": "someone@okbank"}, "SUCCESS", None, 1),
    ({"method": "upi", "vpa": "success@upi"}, "SUCCESS", None, 1),
    ({"method": "card", "card": {"number": "4242424242424242", **CARD}}, "SUCCESS", None, 1),
    ({"method": "card", "card": {"number": "5555555555554444", **CARD}}, "SUCCESS", None, 1),
    ({"method": "netbanking", "bank": "HDFC"}, "SUCCESS", None, 1),
    ({"method": "wallet", "wallet": "paytm"}, "SUCCESS", None, 1),
    ({"method": "upi", "vpa": "failure@upi"}, "FAILED", "payment_declined", 1),
    (
        {"method": "card", "card": {"number": "4000000000000002", **CARD}},
        "FAILED",
        "card_declined",
        1,
    ),
    (
        {"method": "card", "card": {"number": "4000000000009995", **CARD}},
        "FAILED",
        "insufficient_funds",
        1,
    ),
    (
        {"method": "card", "card": {"number": "4000000000000069", **CARD}},
        "FAILED",
        "expired_card",
        1,
    ),
    ({"method": "upi", "vpa": "flaky@upi"}, "SUCCESS", None, 2),
    ({"method": "card", "card": {"number": "4000000000000341", **CARD}}, "SUCCESS", None, 2),
    ({"method": "upi", "vpa": "down@upi"}, "FAILED", "processor_unavailable", 5),
    (
        {"method": "card", "card": {"number": "4000000000000119", **CARD}},
        "FAILED",
        "processor_unavailable",
        5,
    ),
]


def create(api: httpx.Client, **details: object) -> dict:
    body = {"order_id": f"o_{uuid.uuid4().hex[:12]}", "amount": 1999, "currency": "USD", **details}
    response = api.post("/api/v1/payments", json=body)
    assert response.status_code == 202, response.text
    return response.json()


@pytest.fixture
def scheduler_handlers():
    """The app's scheduled handlers, invoked as EventBridge would (workers.scheduler)."""
    from workers.scheduler import discover

    return discover("test")


def run_scheduler(handlers) -> None:
    for handler in handlers:
        result = handler.invoke()
        assert "error" not in result, result


def test_every_row_of_the_test_mode_table(api: httpx.Client, scheduler_handlers) -> None:
    created = [
        (create(api, **details), status, code, attempts)
        for details, status, code, attempts in TEST_MODE_TABLE
    ]

    def all_final() -> bool:
        run_scheduler(scheduler_handlers)
        states = [api.get(f"/api/v1/payments/{p['id']}").json()["status"] for p, *_ in created]
        return all(s in ("SUCCESS", "FAILED") for s in states)

    wait_until(all_final, timeout=60, step=0.5)
    for payment, status, code, attempts in created:
        final = api.get(f"/api/v1/payments/{payment['id']}").json()
        label = json.dumps(
            {k: v for k, v in payment.items() if k in ("method", "vpa", "card", "bank", "wallet")}
        )
        assert final["status"] == status, label
        assert final["failure_code"] == code, label
        assert final["attempts"] == attempts, label
        assert final["next_attempt_at"] is None, label
        if status == "FAILED":
            assert final["failure_message"], label
    with db.connection() as conn:
        ids = [p["id"] for p, *_ in created]
        charges = conn.execute(
            "SELECT payment_id, count(*) AS n FROM processor_sim.charges"
            " WHERE payment_id = ANY(%s) AND outcome = 'succeeded' GROUP BY payment_id",
            (ids,),
        ).fetchall()
        events = conn.execute(
            "SELECT data->>'id' AS id, type FROM events WHERE data->>'id' = ANY(%s)", (ids,)
        ).fetchall()
    succeeded = {p["id"] for p, status, *_ in created if status == "SUCCESS"}
    assert {r["payment_id"] for r in charges} == succeeded
    assert all(r["n"] == 1 for r in charges)
    assert sorted((e["id"], e["type"]) for e in events) == sorted(
        (p["id"], "payment.succeeded" if status == "SUCCESS" else "payment.failed")
        for p, status, *_ in created
    )


def test_history_of_a_payment_that_succeeded_on_its_second_attempt(
    api: httpx.Client, scheduler_handlers
) -> None:
    payment = create(api, method="upi", vpa="flaky@upi")
    run_scheduler(scheduler_handlers)
    retrying = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert retrying["status"] == "PENDING"
    assert retrying["attempts"] == 1
    assert retrying["next_attempt_at"] is not None
    assert retrying["failure_code"] is None
    wait_until(
        lambda: (
            run_scheduler(scheduler_handlers)
            or api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "SUCCESS"
        ),
        timeout=20,
    )
    history = api.get(f"/api/v1/payments/{payment['id']}/history").json()["data"]
    assert [(h["from_status"], h["to_status"], h["attempt"], h["outcome"]) for h in history] == [
        (None, "PENDING", None, None),
        ("PENDING", "PROCESSING", None, None),
        ("PROCESSING", "PENDING", 1, "transient_error"),
        ("PENDING", "PROCESSING", None, None),
        ("PROCESSING", "SUCCESS", 2, "succeeded"),
    ]
    assert history[2]["failure_code"] == "processor_unavailable"
    assert history[4]["failure_code"] is None
    assert all(isinstance(h["latency_ms"], int) for h in (history[2], history[4]))
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_cancel_never_wins_against_processing(api: httpx.Client) -> None:
    """A payment moved to PROCESSING by the handler can no longer be cancelled."""
    from datetime import timedelta

    from chalicelib.clock import utcnow
    from chalicelib.queue import sql as queue_sql

    payment = create(api, method="upi")
    now = utcnow()
    with db.transaction() as conn:
        claimed = queue_sql.claim(
            conn, queue_sql.PAYMENTS, [payment["id"]], now, now - timedelta(seconds=30)
        )
    assert [r["id"] for r in claimed] == [payment["id"]]
    response = api.post(f"/api/v1/payments/{payment['id']}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_not_cancellable"


def test_a_cancelled_payment_is_never_charged(api: httpx.Client, run_processor) -> None:
    payment = create(api, method="upi")
    assert api.post(f"/api/v1/payments/{payment['id']}/cancel").json()["status"] == "CANCELLED"
    run_processor()
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "CANCELLED"
    with db.connection() as conn:
        calls = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.calls WHERE idempotency_key = %s",
            (payment["id"],),
        ).fetchone()
        event = conn.execute(
            "SELECT type FROM events WHERE data->>'id' = %s", (payment["id"],)
        ).fetchall()
    assert calls["n"] == 0
    assert [e["type"] for e in event] == ["payment.cancelled"]


def test_scheduler_once_prints_one_json_line_per_handler() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.scheduler", "--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    from workers.scheduler import discover

    assert [line["handler"] for line in lines] == [h.name for h in discover("test")]
    summary = next(line for line in lines if line["handler"] == "process_payments")
    assert {
        "claimed",
        "succeeded",
        "failed",
        "retried",
        "dead_lettered",
        "swept",
        "duration_ms",
    } <= set(summary)
    emf = [json.loads(line) for line in result.stderr.splitlines() if line.startswith('{"_aws"')]
    assert emf, "no embedded-metric-format line"
    names = {m["Name"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {
        "Claimed",
        "Succeeded",
        "Failed",
        "Retried",
        "DeadLettered",
        "BatchDuration",
        "QueueLag",
    } <= names


def test_scheduled_event_is_shaped_like_eventbridge() -> None:
    from workers.scheduler import rate_seconds, scheduled_event

    event = scheduled_event("process_payments", "us-east-1")
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["resources"][0].startswith("arn:aws:events:us-east-1:")
    assert event["time"].endswith("Z")
    from chalice import Rate

    assert rate_seconds(Rate(1, unit=Rate.MINUTES)) == 60
    assert rate_seconds("rate(5 minutes)") == 300


def test_admin_create_merchant_prints_one_json_line(live_server) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-merchant", "--name", "CLI merchant"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    created = json.loads(line)
    assert created["merchant_id"].startswith("mch_")
    assert created["api_key"].startswith("sk_test_") and len(created["api_key"]) >= 40
    with live_server.client(created["api_key"]) as client:
        assert client.get("/api/v1/payments").status_code == 200
    with db.connection() as conn:
        stored = conn.execute(
            "SELECT key_hash FROM api_keys WHERE merchant_id = %s", (created["merchant_id"],)
        ).fetchone()
    # A keyed hash (HMAC under the server key), never the key nor its bare SHA-256.
    assert stored["key_hash"].startswith("hmac-sha256:")
    assert created["api_key"] not in stored["key_hash"]
    bare = hashlib.sha256(created["api_key"].encode()).hexdigest()
    assert bare not in stored["key_hash"]


def test_admin_rejects_an_empty_name() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-merchant", "--name", "  "],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
