"""Manual capture's money safety (issue 25): one capture per authorization, none after a
void, whatever dies or goes unanswered.

- A drain SIGKILLed after the simulator captured and before the gateway committed: the
  next run settles the capture by inquiry and the books hold one capture.
- Captures and voids at a networked acquirer whose answers are lost (reset after it
  acted, 5xx after it acted): each payment stays AUTHORIZED until its own connector
  settles it; nothing goes to the second connector; the books show no capture beyond
  an authorization and none after a void; reconciliation compares the captures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import db, faults, settings
from chalicelib.handlers.reconcile_settlements import run_reconciliation
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.queue.operations import queue_stats
from chalicelib.services import captures, payments
from tests.conftest import ROOT, wait_until
from tests.integration.acquirer_drain import merchant_on, register, statuses
from tests.integration.acquirer_process import AcquirerProcess, started

RUN_ONCE = r"""
from workers.stage import load_stage
load_stage("test")
from chalicelib.handlers import process_payments as batch
batch.process_payments()
"""


def _create(merchant_id: str, count: int, amount: int = 10_000) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    with db.unit_of_work() as uow:
        return [
            payments.create_payment(
                uow,
                merchant_id,
                CreatePaymentRequest(
                    order_id=f"mc_{tag}_{i}",
                    amount=amount,
                    currency="INR",
                    method="upi",
                    capture_method="manual",
                ),
            ).id
            for i in range(count)
        ]


def _run_once(**extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", RUN_ONCE],
        cwd=ROOT,
        env={**os.environ, "STAGE": "test", **extra},
        capture_output=True,
        timeout=120,
    )


def _drain_until(run_processor: Any, ids: list[str], wanted: set[str], seconds: float = 90):
    deadline = time.monotonic() + seconds
    runs = []
    while True:
        runs.append(run_processor(30))
        if set(statuses("payments", ids).values()) <= wanted:
            return runs
        assert time.monotonic() < deadline, (statuses("payments", ids), runs[-1])
        time.sleep(0.3)


def test_a_drain_killed_after_the_capture_and_before_the_commit_captures_once(
    merchant, run_processor
):
    m = merchant.merchant_id
    ids = _create(m, 3)
    run_processor()
    assert set(statuses("payments", ids).values()) == {"AUTHORIZED"}
    with db.unit_of_work() as uow:
        for payment_id in ids:
            captures.capture_payment(uow, m, payment_id, 4_000)

    crashed = _run_once(VISIBILITY_TIMEOUT_S="1", GATEWAY_FAULT_POINT=faults.OPERATION_AFTER_CALL)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    with db.connection() as conn:
        books = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.charges"
            " WHERE payment_id = ANY(%s) AND capture_state = 'captured'",
            (ids,),
        ).fetchone()
    assert books["n"] == 3  # captured at the acquirer, nothing committed at the gateway
    assert set(statuses("payments", ids).values()) == {"AUTHORIZED"}

    def settled() -> bool:  # once the dead handler's claims are past their visibility
        _run_once(VISIBILITY_TIMEOUT_S="1")
        return set(statuses("payments", ids).values()) == {"SUCCESS"}

    wait_until(settled, timeout=30)
    with db.connection() as conn:
        ops = conn.execute(
            "SELECT o.payment_id, o.attempts, p.amount_captured,"
            " (SELECT count(*) FROM processor_sim.operations s"
            "  WHERE s.idempotency_key = o.id) AS recorded,"
            " (SELECT count(*) FROM events e WHERE e.data->>'id' = o.payment_id"
            "  AND e.type = 'payment.captured') AS captured_events"
            " FROM payment_operations o JOIN payments p ON p.id = o.payment_id"
            " WHERE o.payment_id = ANY(%s)",
            (ids,),
        ).fetchall()
    assert len(ops) == 3
    for op in ops:
        assert (op["attempts"], op["amount_captured"], op["recorded"]) == (1, 4_000, 1)
        assert op["captured_events"] == 1


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[AcquirerProcess]:
    (tmp_path / "primary").mkdir()
    yield from started(tmp_path / "primary")


@pytest.fixture
def secondary(tmp_path: Path) -> Iterator[AcquirerProcess]:
    (tmp_path / "secondary").mkdir()
    yield from started(tmp_path / "secondary")


@pytest.fixture
def quick_settling(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VISIBILITY_TIMEOUT_S", "1")
    monkeypatch.setenv("INQUIRY_FIRST_DELAY_S", "0")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


@pytest.mark.parametrize("mode", ["reset_after", "5xx_after"])
def test_lost_capture_and_void_answers_are_settled_at_their_own_connector(
    primary, secondary, run_processor, quick_settling, mode
):
    first, second = register(primary), register(secondary)
    merchant = merchant_on(first, second)
    m = merchant.merchant_id
    ids = _create(m, 20)
    _drain_until(run_processor, ids, {"AUTHORIZED"})
    to_capture, to_void = ids[:12], ids[12:]

    primary.set_faults(rates={mode: 1.0}, targets=["capture", "void"])
    with db.unit_of_work() as uow:
        for i, payment_id in enumerate(to_capture):
            captures.capture_payment(uow, m, payment_id, 10_000 - i * 500)
        for payment_id in to_void:
            payments.cancel_payment(uow, m, payment_id)
    first_run = run_processor(30)
    assert first_run["operations_unknown"] == len(ids), first_run
    with db.connection() as conn:
        assert queue_stats(conn)["unknown_operations"] == len(ids)
    # Every answer was lost: the payments stay AUTHORIZED, whatever the acquirer did.
    assert set(statuses("payments", ids).values()) == {"AUTHORIZED"}
    # Reconciliation now finds captures whose payments are still AUTHORIZED: in flight,
    # not orphans; it must not reverse them.
    early = run_reconciliation(datetime.now(UTC).date(), first, m)
    assert early["summary"]["mismatches"] == 0, early["summary"]
    assert early["summary"]["payments"]["in_flight"] >= 1, early["summary"]
    primary.clear_faults()
    _drain_until(run_processor, ids, {"SUCCESS", "CANCELLED"})

    final = statuses("payments", ids)
    assert {final[p] for p in to_capture} == {"SUCCESS"}
    assert {final[p] for p in to_void} == {"CANCELLED"}
    with db.connection() as conn:
        captured = {
            r["id"]: r["amount_captured"]
            for r in conn.execute(
                "SELECT id, amount_captured FROM payments WHERE id = ANY(%s)", (ids,)
            ).fetchall()
        }
    for i, payment_id in enumerate(to_capture):
        assert captured[payment_id] == 10_000 - i * 500
        (charge,) = primary.charges_for(payment_id)
        assert (charge["status"], charge["capture_state"], charge["amount_captured"]) == (
            "succeeded", "captured", 10_000 - i * 500,
        )  # fmt: skip
        books = primary.admin.get("/admin/books", params={"payment_id": payment_id}).json()
        assert [c["status"] for c in books["captures"]] == ["succeeded"]  # one capture
    for payment_id in to_void:
        (charge,) = primary.charges_for(payment_id)
        assert charge["capture_state"] == "voided" and charge["amount_captured"] is None
    for payment_id in ids:  # never sent to the other connector
        assert secondary.charges_for(payment_id) == []
    summary = primary.books()
    assert summary["captures_beyond_authorization"] == 0
    assert summary["captures_not_standing"] == 0

    report = run_reconciliation(datetime.now(UTC).date(), first, m)
    assert report["summary"]["mismatches"] == 0, report["summary"]
    assert report["summary"]["payments"]["matched"] == len(to_capture)


def test_the_acquirer_refuses_a_capture_after_a_void_or_beyond_the_authorization(primary):
    """The stand-in's own rules, over HTTP: one capture, within the authorization, never
    after a void; the settlement file books captures, not authorizations."""
    client = primary.admin

    def authorize(key: str, amount: int) -> None:
        body = {"payment_id": key, "amount": amount, "currency": "INR", "method": "upi",
                "capture": False}  # fmt: skip
        answer = client.post("/v1/authorizations", json=body, headers={"Idempotency-Key": key})
        assert answer.json()["status"] == "succeeded"

    def capture(key: str, charge_key: str, amount: int) -> dict[str, Any]:
        body = {"charge_key": charge_key, "amount": amount, "currency": "INR"}
        return client.post("/v1/captures", json=body, headers={"Idempotency-Key": key}).json()

    tag = uuid.uuid4().hex[:8]
    authorize(f"a1_{tag}", 5_000)
    assert (
        capture(f"c0_{tag}", f"a1_{tag}", 5_001)["decline_code"] == "amount_exceeds_authorization"
    )
    assert capture(f"c1_{tag}", f"a1_{tag}", 3_000)["status"] == "succeeded"
    assert capture(f"c1_{tag}", f"a1_{tag}", 3_000)["status"] == "succeeded"  # a replay
    assert capture(f"c2_{tag}", f"a1_{tag}", 1_000)["decline_code"] == "already_captured"
    void = client.post(f"/v1/authorizations/a1_{tag}/void", json={"authorization_only": True})
    assert void.status_code == 409 and void.json()["error"]["code"] == "charge_captured"

    authorize(f"a2_{tag}", 5_000)
    void = client.post(f"/v1/authorizations/a2_{tag}/void", json={"authorization_only": True})
    assert void.json()["result"] == "voided"
    assert capture(f"c3_{tag}", f"a2_{tag}", 1_000)["decline_code"] == "authorization_voided"
    authorize(f"a3_{tag}", 2_000)  # authorized, never captured: not in the books

    day = datetime.now(UTC).date().isoformat()
    lines = client.get(f"/v1/settlements/{day}.csv").text.splitlines()
    mine = [line for line in lines if tag in line]
    assert len(mine) == 1 and ",3000," in mine[0], mine


def test_the_acquirer_refuses_a_capture_after_its_authorization_expired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ACQUIRER_AUTHORIZATION_TTL_S", "0.5")
    acquirer = AcquirerProcess(tmp_path)
    acquirer.start()
    try:
        body = {"payment_id": "p", "amount": 900, "currency": "INR", "method": "upi",
                "capture": False}  # fmt: skip
        acquirer.admin.post("/v1/authorizations", json=body, headers={"Idempotency-Key": "a"})
        time.sleep(0.7)
        capture = {"charge_key": "a", "amount": 900, "currency": "INR"}
        answer = acquirer.admin.post("/v1/captures", json=capture, headers={"Idempotency-Key": "c"})
        assert answer.json()["decline_code"] == "authorization_expired"
        void = acquirer.admin.post("/v1/authorizations/a/void", json={"authorization_only": True})
        assert void.json()["result"] == "voided"  # an expired authorization is released
    finally:
        acquirer.stop()
