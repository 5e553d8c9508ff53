"""The refunds drain against real Postgres, Redis and the simulated processor's ledger.

The crash test has a real drain (a subprocess) SIGKILL itself right after the
processor has refunded and before the gateway commits, then lets another run finish:
the ledger must hold exactly one refund per refund id.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg
import pytest

from chalicelib import db, faults
from chalicelib.services import refunds
from tests.integration.service_fixtures import create_refund, successful_payment_id
from tests.support import ROOT, wait_until

RUN_ONCE = r"""
import json
from workers.stage import load_stage
load_stage("test")
from chalicelib.handlers import process_payments as batch
print(json.dumps(batch.process_payments()), flush=True)
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "STAGE": "test", **extra}


def _run_once(**extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONCE],
        cwd=ROOT,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def _refund_state(refund_id: str) -> dict:
    with db.connection() as conn:
        return conn.execute(
            "SELECT r.status, r.attempts, r.amount, r.failure_code, p.amount_refunded,"
            " p.amount_refund_reserved,"
            " (SELECT count(*) FROM processor_sim.refunds s WHERE s.refund_id = r.id) AS ledger,"
            " (SELECT count(*) FROM processor_sim.calls c WHERE c.kind = 'refund'"
            "   AND c.idempotency_key = r.id) AS calls,"
            " (SELECT count(*) FROM processor_sim.calls c WHERE c.kind = 'refund'"
            "   AND c.idempotency_key = r.id AND c.replayed) AS replayed,"
            " (SELECT array_agg(e.type) FROM events e WHERE e.data->>'id' = r.id) AS events"
            " FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE r.id = %s",
            (refund_id,),
        ).fetchone()


def test_crash_between_processor_refund_and_commit_never_refunds_twice(merchant, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 9_000)
    refund_ids = [create_refund(merchant.merchant_id, payment_id, 1_000) for _ in range(3)]

    # A real drain, SIGKILLed by itself right after the processor refunded.
    crashed = subprocess.run(
        [sys.executable, "-m", "workers.scheduler", "--once"],
        cwd=ROOT,
        env=_env(VISIBILITY_TIMEOUT_S="1", GATEWAY_FAULT_POINT=faults.REFUND_AFTER_CALL),
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == -signal.SIGKILL

    for refund_id in refund_ids:
        state = _refund_state(refund_id)
        # Money moved at the processor, nothing committed at the gateway.
        assert (state["status"], state["ledger"], state["amount_refunded"]) == (
            "PROCESSING", 1, 0
        )  # fmt: skip
        # PROCESSING is internal: the API shows it as PENDING.
        with db.unit_of_work(write=False) as uow:
            assert refunds.get_refund(uow.conn, merchant.merchant_id, refund_id).status == "PENDING"

    def taken_over() -> bool:  # once idle past the dead consumer's (1 s) visibility timeout
        _run_once(VISIBILITY_TIMEOUT_S="1")
        return all(_refund_state(r)["status"] == "SUCCESS" for r in refund_ids)

    wait_until(taken_over, timeout=30)
    for refund_id in refund_ids:
        state = _refund_state(refund_id)
        assert state["status"] == "SUCCESS"
        assert state["attempts"] == 1  # re-run at the same attempt, not a new one
        assert state["ledger"] == 1  # one refund at the processor per refund id
        assert state["calls"] == 2 and state["replayed"] == 1
        assert state["events"] == ["refund.succeeded"]
        assert state["amount_refunded"] == state["amount_refund_reserved"] == 3_000

    # Running again changes nothing.
    _run_once(VISIBILITY_TIMEOUT_S="1")
    assert _refund_state(refund_ids[0])["ledger"] == 1
    assert _refund_state(refund_ids[0])["amount_refunded"] == 3_000


def test_failed_refund_releases_its_reservation(merchant, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 5_000)
    refund_id = create_refund(merchant.merchant_id, payment_id)  # everything
    # The processor is down for every attempt, and one attempt is all it gets.
    _run_once(PROCESSOR_FAILURE_RATE="1", MAX_ATTEMPTS="1")
    state = _refund_state(refund_id)
    assert state["status"] == "FAILED"
    assert state["failure_code"] == "processor_unavailable"
    assert state["amount_refunded"] == 0 and state["amount_refund_reserved"] == 0
    assert state["ledger"] == 0
    assert state["events"] == ["refund.failed"]
    # The amount is refundable again.
    again = create_refund(merchant.merchant_id, payment_id)
    run_processor()
    assert _refund_state(again)["status"] == "SUCCESS"
    assert _refund_state(again)["amount_refunded"] == 5_000


def test_transient_refund_error_is_retried_with_backoff(merchant, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 5_000)
    refund_id = create_refund(merchant.merchant_id, payment_id, 100)
    _run_once(PROCESSOR_FAILURE_RATE="1")
    with db.connection() as conn:
        row = conn.execute(
            "SELECT status, attempts, next_attempt_at IS NOT NULL AS scheduled"
            " FROM refunds WHERE id = %s",
            (refund_id,),
        ).fetchone()
    assert (row["status"], row["attempts"], row["scheduled"]) == ("PENDING", 1, True)

    def retried() -> bool:  # once the backoff has made it due again
        run_processor()
        return _refund_state(refund_id)["status"] == "SUCCESS"

    wait_until(retried, timeout=30, step=0.3)
    assert _refund_state(refund_id)["attempts"] >= 2


def test_lost_stream_message_is_swept(merchant, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 5_000)
    refund_id = create_refund(merchant.merchant_id, payment_id, 100)
    with db.connection() as conn:  # as if the XADD had failed after the commit
        conn.execute("UPDATE refunds SET enqueued_at = NULL WHERE id = %s", (refund_id,))
    from chalicelib import redis_keys as keys
    from chalicelib.adapters.redis_client import get_redis

    get_redis().delete(keys.REFUNDS_STREAM)  # Redis lost everything (our own db index)
    summary = run_processor()
    assert summary["refunds_swept"] >= 1
    assert _refund_state(refund_id)["status"] == "SUCCESS"


def test_check_constraint_is_the_backstop(merchant, run_processor):
    payment_id = successful_payment_id(merchant.merchant_id, run_processor, 1_000)
    with pytest.raises(psycopg.errors.CheckViolation), db.transaction() as conn:
        conn.execute(
            "UPDATE payments SET amount_refund_reserved = amount + 1 WHERE id = %s",
            (payment_id,),
        )
