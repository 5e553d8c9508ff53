"""`make bench`: one JSON line per figure, each against a floor taken in the same run.

    {"name", "value", "unit", "floor", "ratio", ...}

The floor of a throughput figure is the same SQL and Redis commands issued directly,
with no framework around them (no Chalice, pydantic, services or processor adapter),
so `ratio` = value / floor says what our code costs on top of the work itself.
Figures: drain rate at processor latency 0 and 50 ms (10,000 payments each), accept
rate in-process, accept over HTTP driven by wrk (8 keep-alive connections, p50 and
p99) on the fast stack and on a durable one (fsync and synchronous_commit on, with
and without group commit), end to end over HTTP, sequential requests on one
kept-alive connection (floor: plain `chalice local`), the cold start, the HTTP
acquirer connector against its floor (10,000 direct calls to the acquirer process),
and the drain of 10,000 payments through that connector against the same floor,
each at latency 0 and at 300 ms median with a 2 s p99.
The zip's figures under the Lambda runtime client (`bench/lambda_cost.py`): the API's
cold start, billed ms and peak memory per accepted and per drained payment.
The scale-out curve (`bench/scale_out.py`): 1, 2, 4 and 8 `process_payments` processes
on one queue of 20,000 payments, with Postgres CPU and lock waits.
`BENCH_ONLY=accept` runs the accept figures alone; `BENCH_ONLY=drain` the drain figures
(in process, and through the HTTP connector) alone; `BENCH_ONLY=lambda` the Lambda ones
(`BENCH_ONLY=lambda_cold`: only the cold start and the SnapStart restore;
`BENCH_LAMBDA_COLD_RUNS` rounds, 5 by default);
`BENCH_ONLY=scale` the scale-out curve.
Run it on a quiet machine; it is noisy, so compare ratios.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("STAGE", "test")
os.environ.setdefault("LOG_STREAM", "stderr")  # stdout carries only the figures


def emit(figure: dict) -> None:
    print(json.dumps(figure), flush=True)


def prepare_stage() -> None:
    """The bench stage's settings, and an empty benchmark database."""
    from workers.stage import load_stage

    load_stage(os.environ["STAGE"])
    os.environ["RATE_LIMIT_ENABLED"] = "false"  # measure the gateway, not the limiter
    from bench.common import reset_bench_database

    reset_bench_database()


def main() -> int:
    prepare_stage()
    from bench import accept, accept_http, acquirer_floor, drain, drain_http, keepalive
    from bench.cold_start import measure_cold_start_ms

    if os.environ.get("BENCH_ONLY") in ("lambda", "lambda_cold"):
        from bench import lambda_cost

        return lambda_cost.main(cold_only=os.environ["BENCH_ONLY"] == "lambda_cold")
    if os.environ.get("BENCH_ONLY") == "scale":
        from bench import scale_out

        return scale_out.main()
    only_accept = os.environ.get("BENCH_ONLY") == "accept"
    only_drain = os.environ.get("BENCH_ONLY") == "drain"
    count = int(os.environ.get("BENCH_PAYMENTS", "10000"))
    for latency_ms in () if only_accept else (0, 50):
        figure = drain.measure(count, latency_ms)
        if latency_ms == 0:
            accept.record_drain_floor(figure["floor"])
        emit(figure)
    if only_drain:
        for figure in drain_http.measure(int(os.environ.get("BENCH_CALLS", "10000"))):
            emit(figure)
        return 0
    emit(accept.measure_in_process(int(os.environ.get("BENCH_ACCEPTS", "3000"))))
    for measure in (accept_http.measure_fast, accept_http.measure_durable):
        for figure in measure():
            emit(figure)
    if only_accept:
        return 0
    emit(accept.measure_end_to_end(2000))
    emit(keepalive.measure())
    emit(measure_cold_start_ms())
    import tempfile
    from pathlib import Path

    from bench import lambda_cost
    from bench.cold_start import build_zip, measure_zip_cold_start_ms

    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        zip_path = build_zip(Path(tmp) / "build")
        emit(measure_zip_cold_start_ms(zip_path))
        for figure in lambda_cost.measure(zip_path):
            emit(figure)
    for figure in acquirer_floor.measure(int(os.environ.get("BENCH_CALLS", "10000"))):
        emit(figure)
    for figure in drain_http.measure(int(os.environ.get("BENCH_CALLS", "10000"))):
        emit(figure)
    from bench import scale_out

    return scale_out.main()


if __name__ == "__main__":
    sys.exit(main())
