"""Reconciliation against a real acquirer process, the gateway's Postgres and S3 (moto).

Payments and refunds are made SUCCESS by the real batch handler (test-mode simulator),
and the same items are charged on a dedicated acquirer under the same keys, as the HTTP
connector would. Reconciliation scoped to the test's merchant must then report 0, and
find every mismatch planted afterwards. The report is read back from the emulator's S3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib import connectors, db, settings
from chalicelib.adapters import s3_reports
from chalicelib.connectors import runner
from chalicelib.connectors.acquirer import AcquirerConnector
from chalicelib.connectors.base import ChargeRequest, RefundRequest
from chalicelib.handlers.reconcile_settlements import run_reconciliation
from chalicelib.services import refunds
from tests.integration.acquirer_process import AcquirerProcess
from tests.integration.service_fixtures import create_refund, successful_payment_id
from tests.support import ROOT, wait_until


@pytest.fixture
def acquirer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AcquirerProcess]:
    process = AcquirerProcess(tmp_path)
    process.start()
    monkeypatch.setenv("ACQUIRER_URL", process.url)
    monkeypatch.setattr(connectors, "_connectors", {})
    settings.reset_settings()
    yield process
    process.stop()
    settings.reset_settings()


def _charge(connector: AcquirerConnector, payment_id: str, amount: int) -> None:
    request = ChargeRequest(payment_id, payment_id, amount, "INR", "upi", 1)
    assert runner.run(connector.authorize(request)).outcome == "succeeded"


def _refund(connector: AcquirerConnector, refund_id: str, payment_id: str, amount: int) -> None:
    request = RefundRequest(refund_id, refund_id, payment_id, amount, "INR", 1)
    assert runner.run(connector.refund(request)).outcome == "succeeded"


def _successful_refund(
    merchant_id: str, payment_id: str, amount: int, run_processor: Callable[..., Any]
) -> str:
    refund_id = create_refund(merchant_id, payment_id, amount)

    def done() -> bool:
        run_processor()
        with db.unit_of_work(write=False) as uow:
            return refunds.get_refund(uow.conn, merchant_id, refund_id).status == "SUCCESS"

    wait_until(done)
    return refund_id


def _today() -> Any:
    return datetime.now(UTC).date()


def _held_at(connector: str, payment_ids: list[str]) -> None:
    """Say these payments' (simulator-made) charges were made at `connector`, as if its
    connector had charged them; their refunds too."""
    with db.unit_of_work() as uow:
        uow.conn.execute(
            "UPDATE payments SET connector = %s WHERE id = ANY(%s)", (connector, payment_ids)
        )
        uow.conn.execute(
            "UPDATE refunds SET connector = %s WHERE payment_id = ANY(%s)",
            (connector, payment_ids),
        )


def test_clean_books_reconcile_to_zero_and_the_report_lands_in_s3(
    acquirer: AcquirerProcess, merchant: Any, run_processor: Callable[..., Any]
) -> None:
    connector = connectors.get_connector("acquirer")
    assert isinstance(connector, AcquirerConnector) and connector.base_url == acquirer.url
    mid = merchant.merchant_id
    p1 = successful_payment_id(mid, run_processor, 1000)
    p2 = successful_payment_id(mid, run_processor, 2000)
    r1 = _successful_refund(mid, p1, 300, run_processor)
    _held_at("acquirer", [p1, p2])
    _charge(connector, p1, 1000)
    _charge(connector, p2, 2000)
    _refund(connector, r1, p1, 300)

    result = run_reconciliation(_today(), merchant_id=mid)
    summary = result["summary"]
    assert summary["mismatches"] == 0, summary
    assert summary["payments"]["matched"] == 2 and summary["refunds"]["matched"] == 1
    report = s3_reports.get_json(result["report"]["key"])
    assert result["report"]["bucket"] == settings.get_settings().reconciliation_bucket
    assert result["report"]["key"].startswith(f"reconciliation/{_today().isoformat()}/acquirer-")
    assert sorted(report["payments"]["matched"]) == sorted([p1, p2])
    assert report["refunds"]["matched"] == [r1]
    assert report["summary"] == summary and report["merchant_id"] == mid


def test_planted_mismatches_are_found(
    acquirer: AcquirerProcess, merchant: Any, run_processor: Callable[..., Any]
) -> None:
    connector = connectors.get_connector("acquirer")
    mid = merchant.merchant_id
    matched = successful_payment_id(mid, run_processor, 1000)
    changed = successful_payment_id(mid, run_processor, 2000)
    uncharged = successful_payment_id(mid, run_processor, 3000)
    ghost = f"pay_{uuid.uuid4().hex}"  # charged at the acquirer, never recorded by us
    refund_changed = _successful_refund(mid, matched, 100, run_processor)
    _held_at("acquirer", [matched, changed, uncharged])
    _charge(connector, matched, 1000)
    _charge(connector, changed, 2005)  # the amount differs on one side
    _charge(connector, ghost, 4000)
    _refund(connector, refund_changed, matched, 150)

    result = run_reconciliation(_today(), merchant_id=mid)
    summary = result["summary"]
    assert summary["payments"] == {
        "matched": 1,
        "charged_not_success": 1,
        "success_not_charged": 1,
        "amount_mismatches": 1,
        "in_flight": 0,
    }
    assert summary["refunds"]["amount_mismatches"] == 1
    assert summary["mismatches"] == 4
    report = s3_reports.get_json(result["report"]["key"])
    payments = report["payments"]
    assert payments["matched"] == [matched]
    assert payments["charged_not_success"][0]["id"] == ghost
    assert payments["charged_not_success"][0]["gateway_status"] is None
    # Nothing of ours stands behind the ghost: it is listed, not reversed.
    assert payments["charged_not_success"][0]["reason"] == "unknown_payment"
    assert result["orphans_reversed"] == []
    assert payments["success_not_charged"] == [{"id": uncharged, "amount": 3000, "currency": "INR"}]
    mismatch = payments["amount_mismatches"][0]
    assert (mismatch["id"], mismatch["acquirer_amount"], mismatch["gateway_amount"]) == (
        changed,
        2005,
        2000,
    )
    assert report["refunds"]["amount_mismatches"][0]["id"] == refund_changed

    # The operator command gives the same answer.
    cli = subprocess.run(
        [sys.executable, "-m", "workers.admin", "reconcile", "--date", _today().isoformat(),
         "--merchant", mid],
        cwd=ROOT,
        env={**os.environ, "ACQUIRER_URL": acquirer.url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    printed = json.loads(cli.stdout)
    assert printed["summary"] == summary
    bad = subprocess.run(
        [sys.executable, "-m", "workers.admin", "reconcile", "--date", "2026-02-30"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def _history(payment_id: str) -> list[dict[str, Any]]:
    with db.connection() as conn:
        return conn.execute(
            "SELECT outcome, connector FROM payment_history WHERE payment_id = %s ORDER BY id",
            (payment_id,),
        ).fetchall()


def test_orphan_charges_are_found_per_connector_and_reversed(
    acquirer: AcquirerProcess, merchant: Any, run_processor: Callable[..., Any]
) -> None:
    """A charge at the acquirer for a payment that succeeded at another connector, and a
    late charge on a FAILED payment: both are orphans of the acquirer's settlement, both
    are reversed there, and the payment that succeeded elsewhere keeps its one charge."""
    connector = connectors.get_connector("acquirer")
    mid = merchant.merchant_id
    elsewhere = successful_payment_id(mid, run_processor, 1000)  # SUCCESS at the simulator
    owned = successful_payment_id(mid, run_processor, 3000)
    _held_at("acquirer", [owned])
    failed = successful_payment_id(mid, run_processor, 2000)
    with db.unit_of_work() as uow:  # as if it had failed, and then been charged late
        uow.conn.execute(
            "UPDATE payments SET status = 'FAILED', connector = 'acquirer', released_at = now(),"
            " failure_code = 'payment_declined' WHERE id = %s",
            (failed,),
        )
    _charge(connector, elsewhere, 1000)
    _charge(connector, failed, 2000)
    _charge(connector, owned, 3000)

    result = run_reconciliation(_today(), merchant_id=mid)
    assert result["summary"]["payments"]["matched"] == 1
    assert result["summary"]["payments"]["charged_not_success"] == 2
    assert sorted(result["orphans_reversed"]) == sorted([elsewhere, failed])
    report = s3_reports.get_json(result["report"]["key"])
    reasons = {o["id"]: o["reason"] for o in report["payments"]["charged_not_success"]}
    assert reasons == {elsewhere: "succeeded_elsewhere", failed: "failed"}
    standing = {
        pid: [c["status"] for c in acquirer.charges_for(pid)] for pid in (elsewhere, failed, owned)
    }
    assert standing == {elsewhere: ["reversed"], failed: ["reversed"], owned: ["succeeded"]}
    for pid in (elsewhere, failed):
        assert {"outcome": "orphan_reversed", "connector": "acquirer"} in _history(pid)
    with db.connection() as conn:
        events = conn.execute(
            "SELECT count(*) AS n FROM events WHERE type = 'payment.charge_reversed'"
            " AND merchant_id = %s",
            (mid,),
        ).fetchone()["n"]
        orphans = operations_counts(conn)
    assert events == 2
    assert orphans["reversed"] >= 2
    # Reversed charges are no longer in the settlement: the next run finds nothing.
    again = run_reconciliation(_today(), merchant_id=mid)
    assert again["summary"]["mismatches"] == 0 and again["orphans_reversed"] == []


def operations_counts(conn: Any) -> dict[str, int]:
    from chalicelib.queue import operations

    return operations.queue_stats(conn)["orphan_charges"]
