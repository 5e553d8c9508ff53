"""No payment lost or charged twice: crashes, outages and concurrent handlers.

Real Postgres and Redis; crashes are real SIGKILLs of a handler process at a named
point; outages are real connection failures (a dead port, a cut TCP proxy).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from chalicelib import db, faults, settings
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.handlers import process_payments as batch
from chalicelib.queue import operations
from tests.faults import CuttableProxy
from tests.integration.service_fixtures import accept_payments
from tests.support import ROOT, FakeContext, start_server, stop_server, wait_until


@pytest.fixture
def fast_visibility(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A 1 s visibility timeout, so abandoned work is taken over quickly."""
    monkeypatch.setenv("VISIBILITY_TIMEOUT_S", "1")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


def states(payment_ids: list[str]) -> dict[str, int]:
    with db.connection() as conn:
        rows = conn.execute(
            "SELECT status, count(*) AS n FROM payments WHERE id = ANY(%s) GROUP BY status",
            (payment_ids,),
        ).fetchall()
    return {r["status"]: r["n"] for r in rows}


def assert_charged_exactly_once(payment_ids: list[str]) -> None:
    with db.connection() as conn:
        charges = conn.execute(
            "SELECT payment_id, count(*) AS n FROM processor_sim.charges"
            " WHERE payment_id = ANY(%s) GROUP BY payment_id",
            (payment_ids,),
        ).fetchall()
        history = conn.execute(
            "SELECT payment_id, count(*) AS n FROM payment_history WHERE payment_id = ANY(%s)"
            " GROUP BY payment_id",
            (payment_ids,),
        ).fetchall()
        events = conn.execute(
            "SELECT count(*) AS n, count(DISTINCT data->>'id') AS d FROM events"
            " WHERE data->>'id' = ANY(%s)",
            (payment_ids,),
        ).fetchone()
    assert len(charges) == len(payment_ids), "a payment was never charged"
    assert all(r["n"] == 1 for r in charges), "a payment was charged twice"
    assert all(r["n"] == 3 for r in history), "history: created, processing, final"
    assert events["n"] == events["d"] == len(payment_ids), "one event per payment"


def run_until_final(payment_ids: list[str], timeout: float = 60) -> None:
    """Run the handler until every payment is SUCCESS.

    Work abandoned by a dead handler comes back once it has been idle past the
    visibility timeout; the runs before that find nothing to do, so this is the wait
    for that moment as well (on the condition, not on a guess of its duration).
    """

    def final() -> bool:
        batch.process_payments(FakeContext(30))
        return states(payment_ids).get("SUCCESS", 0) == len(payment_ids)

    wait_until(final, timeout=timeout, step=0.3)


def process_payments_summary(scheduler_stdout: str) -> dict:
    """The `process_payments` line of `workers.scheduler --once` output."""
    lines = [json.loads(line) for line in scheduler_stdout.splitlines()]
    return next(line for line in lines if line["handler"] == "process_payments")


def handler_process(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workers.scheduler", "--once"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("crash_point", [faults.AFTER_CHARGE, faults.AFTER_COMMIT])
def test_sigkill_mid_batch_then_next_run_finishes_without_double_charge(
    merchant, fast_visibility, crash_point: str
) -> None:
    ids = accept_payments(merchant.merchant_id, 50)
    crashed = handler_process({"GATEWAY_FAULT_POINT": crash_point})
    crashed.communicate(timeout=120)
    assert crashed.returncode == -signal.SIGKILL
    with db.connection() as conn:
        charged = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.charges WHERE payment_id = ANY(%s)", (ids,)
        ).fetchone()["n"]
    assert charged == 50  # the processor was called before the crash
    expected = "PROCESSING" if crash_point == faults.AFTER_CHARGE else "SUCCESS"
    assert states(ids) == {expected: 50}
    pending = get_redis().xpending(keys.PAYMENTS_STREAM, keys.PROCESSOR_GROUP)["pending"]
    assert pending >= 50  # nothing was acknowledged
    run_until_final(ids)  # taken over once idle past the visibility timeout
    assert_charged_exactly_once(ids)
    with db.connection() as conn:
        replays = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.calls WHERE idempotency_key = ANY(%s)"
            " AND replayed",
            (ids,),
        ).fetchone()["n"]
    assert replays == (50 if crash_point == faults.AFTER_CHARGE else 0)


def test_redis_down_at_accept_time_still_202_and_processed_later(merchant, tmp_path) -> None:
    server = start_server(tmp_path, {"REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        with server.client(merchant.api_key) as client:
            created = [
                client.post(
                    "/api/v1/payments",
                    json={
                        "order_id": f"redis_down_{uuid.uuid4().hex[:8]}",
                        "amount": 100,
                        "currency": "INR",
                        "method": "upi",
                    },
                )
                for _ in range(5)
            ]
            health = client.get("/health")
    finally:
        stop_server(server)
    assert [r.status_code for r in created] == [202] * 5
    assert health.status_code == 503
    assert health.json() == {
        "status": "unavailable",
        "checks": {"postgres": "ok", "redis": "unavailable"},
    }
    ids = [r.json()["id"] for r in created]
    run_until_final(ids, timeout=30)  # the sweep enqueues them at once
    assert_charged_exactly_once(ids)


def test_redis_flushed_every_message_lost_the_sweep_recovers(merchant, fast_visibility) -> None:
    ids = accept_payments(merchant.merchant_id, 200)
    get_redis().flushdb()  # this suite's own Redis database only
    swept: list[int] = []

    def all_swept() -> bool:  # they are due for the sweep after the visibility timeout
        swept.append(batch.process_payments(FakeContext(30))["swept"])
        return sum(swept) >= 200

    wait_until(all_swept, timeout=30)
    run_until_final(ids)
    assert_charged_exactly_once(ids)


def test_postgres_down_mid_run_fails_cleanly_and_the_next_run_completes(
    merchant, fast_visibility
) -> None:
    ids = accept_payments(merchant.merchant_id, 20)
    url = urlsplit(os.environ["DATABASE_URL"])
    proxy = CuttableProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxied = urlunsplit(url._replace(netloc=f"{url.username}@127.0.0.1:{proxy.port}"))
    handler = handler_process({"DATABASE_URL": proxied, "PROCESSOR_LATENCY_MS": "1500"})

    def claimed() -> bool:
        return states(ids).get("PROCESSING", 0) > 0

    wait_until(claimed, timeout=60, step=0.05)
    proxy.cut()  # while the batch is at the processor
    out, err = handler.communicate(timeout=120)
    summary = process_payments_summary(out)
    assert "error" in summary, out + err
    assert "Traceback" not in out
    assert states(ids).get("SUCCESS", 0) == 0  # nothing finished without Postgres
    pending = get_redis().xpending(keys.PAYMENTS_STREAM, keys.PROCESSOR_GROUP)["pending"]
    assert pending >= 20  # and nothing was acknowledged
    run_until_final(ids)  # taken over once idle past the visibility timeout
    assert_charged_exactly_once(ids)


def test_two_handlers_at_once_never_process_a_payment_twice(merchant) -> None:
    ids = accept_payments(merchant.merchant_id, 2000)
    env = {"BATCH_SIZE": "100", "PROCESSOR_LATENCY_MS": "40"}
    handlers = [handler_process(env), handler_process(env)]
    outputs = [h.communicate(timeout=300) for h in handlers]
    summaries = [process_payments_summary(out) for out, _ in outputs]
    assert all(s["claimed"] > 0 and s["succeeded"] > 0 for s in summaries), summaries
    run_until_final(ids)  # anything left over (there should be nothing)
    assert states(ids) == {"SUCCESS": 2000}
    assert_charged_exactly_once(ids)


def test_ten_thousand_payments_drained_nothing_lost_nothing_duplicated(merchant) -> None:
    ids = accept_payments(merchant.merchant_id, 10_000)
    started = time.perf_counter()
    run_until_final(ids, timeout=240)
    elapsed = time.perf_counter() - started
    assert states(ids) == {"SUCCESS": 10_000}
    assert_charged_exactly_once(ids)
    print(f"drained 10,000 payments in {elapsed:.2f}s ({10_000 / elapsed:.0f}/s)")


def test_poison_entries_are_dead_lettered_listed_and_replayed(
    merchant, fast_visibility, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEAD_LETTER_AFTER_DELIVERIES", "2")
    settings.reset_settings()
    (good,) = accept_payments(merchant.merchant_id, 1)
    (poison,) = accept_payments(merchant.merchant_id, 1)
    with db.transaction() as conn:  # a row that cannot be rendered for its event
        conn.execute("""UPDATE payments SET metadata = '{"k": 1}' WHERE id = %s""", (poison,))

    def dead_lettered() -> bool:  # each delivery after the last one's visibility timeout
        batch.process_payments(FakeContext(30))
        return any(d["id"] == poison for d in operations.list_dead_letters())

    wait_until(dead_lettered, timeout=30)
    assert states([good]) == {"SUCCESS": 1}
    letter = next(d for d in _dlq() if d["id"] == poison)
    assert "ValidationError" in letter["error"]
    stats = _admin("queue-stats")
    assert stats["dead_letters"] >= 1
    assert {"length", "pending", "oldest_pending_age_s", "retry_scheduled"} <= set(stats)
    # Parked: later runs neither execute it nor sweep it back by themselves. The
    # witness is a payment accepted after the parking whose stream entry is lost: the
    # sweep finds it only once the visibility timeout has passed since its acceptance,
    # so the run that finishes it is past the timeout for the parked row too.
    (witness,) = accept_payments(merchant.merchant_id, 1)
    lost = [e for e, fields in get_redis().xrange(keys.PAYMENTS_STREAM) if fields["id"] == witness]
    get_redis().xdel(keys.PAYMENTS_STREAM, *lost)
    run_until_final([witness])
    batch.process_payments(FakeContext(30))
    entries = get_redis().xrange(keys.PAYMENTS_STREAM)
    assert poison not in [fields.get("id") for _, fields in entries]
    with db.connection() as conn:
        parked = conn.execute(
            "SELECT enqueued_at = 'infinity' AS parked FROM payments WHERE id = %s", (poison,)
        ).fetchone()["parked"]
    assert parked
    with db.transaction() as conn:  # the operator fixes the data, then replays
        conn.execute("UPDATE payments SET metadata = '{}' WHERE id = %s", (poison,))
    replayed = _admin("dlq-replay", "--id", letter["dead_letter_id"])
    assert replayed == {"replayed": 1, "removed": 1}
    run_until_final([poison])  # its PROCESSING row is re-run past the visibility timeout
    assert not any(d["id"] == poison for d in _dlq())


def _dlq() -> list[dict[str, str]]:
    return _admin("dlq-list")["dead_letters"]


def _admin(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "workers.admin", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
