"""The drain through the HTTP connector: 10,000 payments against the acquirer process.

For each acquirer latency (0 ms; 300 ms median with a 2 s p99, lognormal), a
dedicated acquirer process, then in alternating order:
  floor — the same authorize calls made directly to that process with the same client
          library (aiohttp) and concurrency, nothing around them (bench.acquirer_floor);
  value — `process_payments` draining 10,000 accepted payments whose merchant routes to
          that acquirer: claim, HTTP calls, finish, events, in a fresh process, whose
          peak RSS is reported (the handler's memory must stay bounded at both latencies).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.acquirer_floor import (
    LATENCIES,
    ROOT,
    _run_side,
    acquirer_process,
    free_port,
    p95_done_per_s,
)

#: The prod stage's setting for a networked acquirer (.chalice/config.json): one drain
#: thread keeping DRAIN_IN_FLIGHT calls in flight, each row finished as its answer comes.
#: More threads only contend for the GIL with the connector loop (measured 2026-11-29,
#: 0 ms: 0.99 and 0.74 of the floor with 1 thread, 0.68 and 0.72 with 3).
DRAIN_WORKERS = int(os.environ.get("BENCH_HTTP_DRAIN_WORKERS", "1"))


def _drain_side(url: str, count: int) -> dict[str, Any]:
    """In this (fresh) process: accept `count` payments, then time their drain."""
    os.environ.setdefault("STAGE", "test")
    os.environ["DRAIN_WORKERS"] = str(DRAIN_WORKERS)
    from workers.stage import load_stage

    load_stage(os.environ["STAGE"])
    from bench.common import Deadline, accept_payments, new_merchant, settle
    from chalicelib import connectors, db, settings
    from chalicelib.connectors import routing
    from chalicelib.connectors.acquirer import AcquirerConnector
    from chalicelib.handlers import process_payments as handler

    name = f"bench_acq_{free_port()}"
    connectors.register(name, AcquirerConnector(url, name=name, deadline_s=30))
    merchant = new_merchant()
    with db.unit_of_work() as uow:
        routing.set_merchant_connectors(uow.conn, merchant.merchant_id, [name])
    accept_payments(merchant.merchant_id, count)
    settle()
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    done = failed = 0
    while done + failed < count:
        summary = handler.process_payments(Deadline(600))
        done += summary["succeeded"]
        failed += summary["failed"] + summary["unknown"]
    elapsed = time.perf_counter() - started
    assert failed == 0, f"{failed} payments did not succeed"
    with db.unit_of_work(write=False) as uow:
        finished = uow.conn.execute(
            "SELECT extract(epoch FROM updated_at - %s) AS s FROM payments WHERE merchant_id = %s",
            (started_at, merchant.merchant_id),
        ).fetchall()
    cfg = settings.get_settings()
    return {
        "calls_per_s": round(count / elapsed),
        "p95_done_per_s": p95_done_per_s([float(r["s"]) for r in finished]),
        "drain_workers": cfg.drain_workers,
        "in_flight": cfg.drain_in_flight,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _run_drain(url: str, count: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.drain_http", "--drain", url, "--count", str(count)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=1800, env=os.environ,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure(count: int = 10_000) -> list[dict[str, Any]]:
    # The floor's concurrency is the drain's: as many calls in flight.
    from chalicelib.settings import Settings

    default = Settings.model_fields["drain_in_flight"].default
    concurrency = int(os.environ.get("DRAIN_IN_FLIGHT") or default)
    figures = []
    for latency_ms, latency in LATENCIES.items():
        with acquirer_process(latency) as (url, _server):
            floor_a = _run_side("direct", url, count, concurrency)
            value = _run_drain(url, count)
            floor_b = _run_side("direct", url, count, concurrency)
        floor = (floor_a["calls_per_s"] + floor_b["calls_per_s"]) / 2
        floor_p95 = (floor_a["p95_done_per_s"] + floor_b["p95_done_per_s"]) / 2
        figures.append(
            {
                "name": f"drain_http_latency_{latency_ms}ms",
                "value": value["calls_per_s"],
                "unit": "payments/s",
                "floor": round(floor),
                "ratio": round(value["calls_per_s"] / floor, 2),
                "payments": count,
                "drain_workers": value["drain_workers"],
                "in_flight": value["in_flight"],
                "concurrency": concurrency,
                "latency": latency or {"median_ms": 0, "p99_ms": 0},
                # The pace until 95% were done, without the latency's extreme tail.
                "p95_done_per_s": value["p95_done_per_s"],
                "floor_p95_done_per_s": round(floor_p95),
                "p95_done_ratio": round(value["p95_done_per_s"] / floor_p95, 2),
                "peak_rss_mb": value["peak_rss_mb"],
                "floor_peak_rss_mb": max(floor_a["peak_rss_mb"], floor_b["peak_rss_mb"]),
                "floor_runs": [floor_a["calls_per_s"], floor_b["calls_per_s"]],
            }
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--drain", metavar="URL")
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_CALLS", "10000")))
    args = parser.parse_args()
    if args.drain:
        print(json.dumps(_drain_side(args.drain, args.count)), flush=True)
        return 0
    for figure in measure(args.count):
        print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
