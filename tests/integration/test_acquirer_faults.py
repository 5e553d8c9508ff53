"""The queue against a real, networked acquirer that misbehaves (issue 12).

For each fault, 200 payments and 50 refunds go through `process_payments` and the HTTP
connector to an acquirer process of the test's own, with the fault injected by the
acquirer itself. Each must reach exactly one final state; the acquirer's books must
show no second charge and no refund beyond a capture; reconciliation must then report
no mismatch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chalicelib.handlers.reconcile_settlements import run_reconciliation
from tests.integration.acquirer_drain import (
    accept_payments,
    accept_refunds,
    drain_until_final,
    merchant_on,
    register,
    statuses,
)
from tests.integration.acquirer_process import AcquirerProcess, started

PAYMENTS = 200
REFUNDS = 50


@pytest.fixture
def acquirer(tmp_path: Path) -> Iterator[AcquirerProcess]:
    yield from started(tmp_path)


def _assert_books_and_reconciliation(
    acquirer: AcquirerProcess, connector: str, merchant_id: str, payment_ids: list[str]
) -> None:
    states = statuses("payments", payment_ids)
    for payment_id in payment_ids:
        charges = [c for c in acquirer.charges_for(payment_id) if c["status"] == "succeeded"]
        assert len(charges) <= 1, f"{payment_id} charged {len(charges)} times"
        assert (len(charges) == 1) == (states[payment_id] == "SUCCESS"), payment_id
    books = acquirer.books()
    assert books["charges_with_inconsistent_refunds"] == 0
    report = run_reconciliation(datetime.now(UTC).date(), connector, merchant_id)
    assert report["summary"]["mismatches"] == 0, report["summary"]
    assert report["summary"]["payments"]["matched"] >= 1


def _run_scenario(
    acquirer: AcquirerProcess,
    run_processor,
    during: Callable[[], Callable[[], None]],
    faults: dict[str, Any] | None,
) -> None:
    """`during()` starts the trouble once the work is accepted, and returns a function
    that waits until the acquirer answers again."""
    connector = register(acquirer)
    merchant = merchant_on(connector)
    captured = accept_payments(merchant.merchant_id, REFUNDS)
    drain_until_final(run_processor, captured)
    assert set(statuses("payments", captured).values()) == {"SUCCESS"}

    if faults is not None:
        acquirer.set_faults(**faults)
    payment_ids = accept_payments(merchant.merchant_id, PAYMENTS)
    refund_ids = accept_refunds(merchant.merchant_id, captured, 4_000)
    settled = during()
    first = run_processor(30)
    if faults is not None:
        acquirer.clear_faults()
    runs = [first, *drain_until_final(run_processor, payment_ids, refund_ids, seconds=180)]
    settled()  # the acquirer is back (after a restart or a spell down)
    assert sum(r["dead_lettered"] for r in runs) == 0

    final = statuses("payments", payment_ids)
    assert set(final.values()) <= {"SUCCESS", "FAILED"} and len(final) == PAYMENTS
    assert set(statuses("refunds", refund_ids).values()) <= {"SUCCESS", "FAILED"}
    _assert_books_and_reconciliation(
        acquirer, connector, merchant.merchant_id, payment_ids + captured
    )


def _all_calls(rate: float, mode: str) -> dict[str, Any]:
    return {"rates": {mode: rate}, "targets": ["authorize", "refund"]}


@pytest.mark.parametrize("mode", ["5xx_before", "5xx_after", "reset_after", "hang"])
def test_each_fault_reaches_one_final_state_and_reconciles(
    acquirer: AcquirerProcess, run_processor, mode: str
) -> None:
    _run_scenario(acquirer, run_processor, lambda: lambda: None, _all_calls(0.4, mode))


def test_an_acquirer_down_for_a_minute_charges_nothing_twice(
    acquirer: AcquirerProcess, run_processor
) -> None:
    def go_down() -> Callable[[], None]:
        assert acquirer.admin.post("/admin/down", json={"seconds": 60}).status_code == 202
        return lambda: acquirer.wait_healthy(seconds=90)

    _run_scenario(acquirer, run_processor, go_down, None)


def test_an_acquirer_restarted_mid_drain_charges_nothing_twice(
    acquirer: AcquirerProcess, run_processor
) -> None:
    import threading

    def restart_soon() -> Callable[[], None]:
        # Answers slow enough that calls are in flight when the process goes away; the
        # new process starts without faults (they are not part of the books).
        acquirer.set_faults(latency={"median_ms": 400, "p99_ms": 1200})
        timer = threading.Timer(0.5, acquirer.restart)
        timer.start()
        return timer.join

    _run_scenario(acquirer, run_processor, restart_soon, None)
