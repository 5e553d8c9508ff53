"""The scale-out curve: 1, 2, 4 and 8 `process_payments` copies on one queue.

For each level, `SCALE_PAYMENTS` (20,000) payments are accepted onto the one stream,
then that many worker processes (`bench/scale_worker.py`, the handler with the prod
stage's drain settings: one drain worker, 1,024 in flight, a pool of 6, the template's
120 s timeout as each run's deadline) start together and drain it. Per level, one JSON
line: payments/s over the wall time from the start signal to the last worker's end,
the Postgres CPU spent (cores busy on average), the workers' own CPU (cores, and the
busiest worker's share of one core: near 1.0 is a process bound by its GIL), how long
the workers' threads waited for a CPU (per worker, share of the wall time), the
share of samples of `pg_stat_activity` in which a backend waited for a lock, and the
check that no payment was charged twice (the simulator's ledger: one succeeded charge
per payment at most) and every payment of the level succeeded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

from bench.common import accept_payments, drain_everything, new_merchant, settle
from bench.resources import ROOT, postgres_cpu_s
from chalicelib import db

LEVELS = tuple(int(n) for n in os.environ.get("SCALE_LEVELS", "1,2,4,8").split(","))
PAYMENTS = int(os.environ.get("SCALE_PAYMENTS", "20000"))
#: The prod stage's drain settings (.chalice/config.json, `process_payments`).
PROD_DRAIN = {"DRAIN_WORKERS": "1", "DRAIN_IN_FLIGHT": "1024", "DB_POOL_MAX_SIZE": "6"}
TIMEOUT_S = 120

LOCK_WAITS = """
SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') AS locked, count(*) AS active
FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'
  AND pid <> pg_backend_pid()
"""
CHARGED_TWICE = """
SELECT count(*) AS n FROM (
  SELECT payment_id FROM processor_sim.charges WHERE outcome = 'succeeded'
  GROUP BY payment_id HAVING count(*) > 1) twice
"""


class LockSampler(threading.Thread):
    """Samples pg_stat_activity every 50 ms until stopped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples = self.locked = self.backends = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with db.connection() as conn:
            while not self.stop.wait(0.05):
                row = conn.execute(LOCK_WAITS).fetchone()
                self.samples += 1
                self.locked += 1 if row["locked"] else 0
                self.backends += row["active"]


def _workers(n: int) -> list[subprocess.Popen[str]]:
    env = {**os.environ, **PROD_DRAIN, "LOG_LEVEL": "WARNING", "LOG_STREAM": "stderr"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.scale_worker", str(TIMEOUT_S)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(n)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return procs


def measure_level(n: int, count: int = PAYMENTS) -> dict[str, Any]:
    drain_everything()
    merchant = new_merchant()
    ids = accept_payments(merchant.merchant_id, count)
    settle()
    procs = _workers(n)
    sampler = LockSampler()
    pg_before = postgres_cpu_s()
    started = time.perf_counter()
    sampler.start()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = [json.loads(proc.communicate(timeout=900)[0]) for proc in procs]
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    pg_cpu = postgres_cpu_s() - pg_before
    with db.connection() as conn:
        twice = conn.execute(CHARGED_TWICE).fetchone()["n"]
        succeeded = conn.execute(
            "SELECT count(*) AS n FROM payments WHERE id = ANY(%s) AND status = 'SUCCESS'",
            (ids,),
        ).fetchone()["n"]
    worker_cpu = [r["cpu_s"] for r in reports]
    return {
        "name": f"scale_out_{n}",
        "value": round(count / wall),
        "unit": "payments/s",
        "processes": n,
        "payments": count,
        "wall_s": round(wall, 2),
        "postgres_cores": round(pg_cpu / wall, 2),
        "workers_cores": round(sum(worker_cpu) / wall, 2),
        "busiest_worker_core_share": round(max(worker_cpu) / wall, 2),
        # threads ready to run but waiting for a CPU (the machine's cores are shared)
        "workers_runqueue_wait_share": round(
            sum(r["runqueue_wait_s"] for r in reports) / (wall * n), 2
        ),
        "lock_wait_sample_share": round(sampler.locked / max(1, sampler.samples), 3),
        "active_backends_mean": round(sampler.backends / max(1, sampler.samples), 2),
        "runs": sum(r["runs"] for r in reports),
        "succeeded": succeeded,
        "charged_twice": twice,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def measure() -> list[dict[str, Any]]:
    figures = [measure_level(n) for n in LEVELS]
    best = max(f["value"] for f in figures)
    one = figures[0]["value"] if LEVELS[0] == 1 else None
    for figure in figures:
        figure["floor"] = best  # the best level of the same run
        figure["ratio"] = round(figure["value"] / best, 2)
        if one:
            figure["vs_one"] = round(figure["value"] / one, 2)
    return figures


def main() -> int:
    from bench.__main__ import emit

    for figure in measure():
        emit(figure)
    return 0
