"""Routing, failover and deadlines against two real acquirer processes (issue 12)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.queue import operations
from tests.integration.acquirer_drain import (
    accept_payments,
    drain_until_final,
    gateway_connectors,
    merchant_on,
    register,
    statuses,
)
from tests.integration.acquirer_process import AcquirerProcess, started


def _process(path: Path) -> Iterator[AcquirerProcess]:
    path.mkdir()
    yield from started(path)


@pytest.fixture
def primary(tmp_path: Path) -> Iterator[AcquirerProcess]:
    yield from _process(tmp_path / "primary")


@pytest.fixture
def secondary(tmp_path: Path) -> Iterator[AcquirerProcess]:
    yield from _process(tmp_path / "secondary")


def _succeeded_charges(acquirer: AcquirerProcess, payment_id: str) -> int:
    return sum(c["status"] == "succeeded" for c in acquirer.charges_for(payment_id))


def test_with_the_primary_down_new_payments_succeed_on_the_secondary(
    primary: AcquirerProcess, secondary: AcquirerProcess, run_processor
) -> None:
    p, s = register(primary), register(secondary)
    merchant = merchant_on(p, s)
    assert primary.admin.post("/admin/down", json={"seconds": 20}).status_code == 202
    payment_ids = accept_payments(merchant.merchant_id, 50)

    runs = drain_until_final(run_processor, payment_ids, seconds=90)
    assert set(statuses("payments", payment_ids).values()) == {"SUCCESS"}
    assert set(gateway_connectors(payment_ids).values()) == {s}
    assert sum(r["connectors"].get(s, {}).get("Failovers", 0) for r in runs) >= 1
    primary.wait_healthy(seconds=40)
    for payment_id in payment_ids:
        assert _succeeded_charges(secondary, payment_id) == 1
        assert _succeeded_charges(primary, payment_id) == 0


def test_a_payment_unknown_on_the_primary_is_never_charged_on_the_secondary(
    primary: AcquirerProcess, secondary: AcquirerProcess, run_processor
) -> None:
    p, s = register(primary), register(secondary)
    merchant = merchant_on(p, s)
    primary.set_faults(rates={"5xx_after": 1.0}, targets=["authorize"])
    payment_ids = accept_payments(merchant.merchant_id, 30)
    first = run_processor(30)
    assert first["unknown"] == 30
    assert get_redis().exists(keys.breaker_open(p)), "30 failed calls open the breaker"
    primary.clear_faults()
    # The primary cannot answer inquiries for a while: the payments wait for it. Their
    # outcome has been unknown "for two hours" (past INQUIRY_FLAG_AFTER_S): an
    # unanswered inquiry flags them for the operator, and they are still not failed.
    with db.unit_of_work() as uow:
        uow.conn.execute(
            "UPDATE inquiries SET first_unknown_at = now() - interval '2 hours'"
            " WHERE object_id = ANY(%s)",
            (payment_ids,),
        )
    assert primary.admin.post("/admin/down", json={"seconds": 4}).status_code == 202
    for _ in range(3):
        run_processor(30)
        assert set(statuses("payments", payment_ids).values()) == {"PROCESSING"}
        assert all(_succeeded_charges(secondary, pid) == 0 for pid in payment_ids)
    with db.unit_of_work(write=False) as uow:
        assert operations.queue_stats(uow.conn)["flagged_payments"] >= len(payment_ids)
    primary.wait_healthy(seconds=30)

    drain_until_final(run_processor, payment_ids, seconds=60)
    assert set(statuses("payments", payment_ids).values()) == {"SUCCESS"}
    assert set(gateway_connectors(payment_ids).values()) == {p}
    for payment_id in payment_ids:
        assert _succeeded_charges(primary, payment_id) == 1
        assert _succeeded_charges(secondary, payment_id) == 0


def test_a_hanging_acquirer_never_holds_an_invocation_past_its_deadline(
    primary: AcquirerProcess, run_processor
) -> None:
    connector = register(primary, deadline_s=1.5)
    merchant = merchant_on(connector)
    primary.set_faults(rates={"hang": 1.0}, targets=["authorize"])
    payment_ids = accept_payments(merchant.merchant_id, 100)

    budget_s = 20
    started = time.monotonic()
    summary = run_processor(budget_s)
    assert time.monotonic() - started < budget_s, summary
    assert summary["dead_lettered"] == 0 and summary["unknown"] == summary["claimed"] > 0
    primary.clear_faults()

    runs = drain_until_final(run_processor, payment_ids, seconds=60)
    assert sum(r["dead_lettered"] for r in runs) == 0
    assert set(statuses("payments", payment_ids).values()) == {"SUCCESS"}
    assert all(_succeeded_charges(primary, pid) == 1 for pid in payment_ids)
