"""The API function's cold start under the Lambda runtime client (bench/lambda_cost.py's rig).

- `lambda_api_cold_start`: process start to the first create's answer (init, import,
  secrets, connections, the first request), median of `COLD_RUNS`; floor: the same
  runtime client starting a handler that returns `{}` (the empty interpreter with the
  runtime), in the same rounds. `over_floor_ms` is what the app adds. On this shared
  machine load stretches both; `cpu_ms` is the CPU the environment's process had used
  by the first answer (all its threads, from /proc's schedstat), which load stretches
  far less, and `runqueue_ms` the time its threads waited for a CPU meanwhile: what
  the load added. `libraries_*` is, in the same rounds, a handler that only imports
  what the first create cannot do without (Chalice, pydantic with one model, redis-py,
  psycopg and its pool: `bench.lambda_cost.LIBRARIES`): the part of the app's figure
  no change of ours can remove.
- `lambda_api_restore_to_first_answer`: the same with SnapStart, from the restore (the
  after-restore hooks) to the first create's answer; the floor likewise.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.lambda_events import create_payment_event
from tests.lambda_function import ExecutionEnvironment

if TYPE_CHECKING:
    from bench.lambda_cost import Rig

COLD_RUNS = int(os.environ.get("BENCH_LAMBDA_COLD_RUNS", "5"))


def schedstat_ms(pid: int) -> tuple[float, float]:
    """(on a CPU, waiting for one) so far, in ms, summed over the process's threads."""
    on_cpu = waiting = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        on_cpu += int(fields[0])
        waiting += int(fields[1])
    return on_cpu / 1e6, waiting / 1e6


def _cold_ms(env: ExecutionEnvironment, event: dict[str, Any]) -> tuple[float, ...]:
    """Process start to the first answer, the init's part of it (to the first /next),
    and the process's CPU and run-queue ms at the first answer."""
    try:
        init_ms = env.wait_ready()
        first = env.invoke(event)
        cpu_ms, runqueue_ms = schedstat_ms(env.process.pid)
        assert first.error is None, first.error
        assert first.done_at is not None
        return (first.done_at - env.started) * 1000, init_ms, cpu_ms, runqueue_ms
    finally:
        env.stop()


def _restore_ms(env: ExecutionEnvironment, event: dict[str, Any]) -> float:
    """SnapStart: from the restore (the runtime released from /restore/next, the
    after-restore hooks to run) to the first answer."""
    try:
        env.wait_ready()
        assert env.api.snapshot_point.wait(60)
        started = time.perf_counter()
        env.api.restore.set()
        first = env.invoke(event)
        assert first.error is None and first.done_at is not None, first.error
        return (first.done_at - started) * 1000
    finally:
        env.stop()


def measure_restore(r: Rig, api_key: str) -> dict[str, Any]:
    values, floors = [], []
    for _ in range(COLD_RUNS):
        floors.append(_restore_ms(r.start("app", noop=True, snapstart=True), {}))
        event = create_payment_event(api_key, f"restore_{uuid.uuid4().hex[:12]}")
        values.append(_restore_ms(r.start("app", snapstart=True), event))
    value, floor = statistics.median(values), statistics.median(floors)
    return {
        "name": "lambda_api_restore_to_first_answer",
        "value": round(value, 1),
        "unit": "ms",
        "floor": round(floor, 1),
        "ratio": round(value / floor, 2),
        "over_floor_ms": round(value - floor, 1),
        "range_ms": [round(min(values), 1), round(max(values), 1)],
    }


def measure_cold(r: Rig, api_key: str) -> dict[str, Any]:
    app: list[tuple[float, ...]] = []
    empty: list[tuple[float, ...]] = []
    libraries: list[tuple[float, ...]] = []
    for _ in range(COLD_RUNS):  # interleaved, so load on the machine hits all alike
        empty.append(_cold_ms(r.start("app", noop=True), {}))
        event = create_payment_event(api_key, f"cold_{uuid.uuid4().hex[:12]}")
        app.append(_cold_ms(r.start("app"), event))
        libraries.append(_cold_ms(r.start("app", libraries=True), {}))
    values, inits, cpus, queued = (list(column) for column in zip(*app, strict=True))
    floors, floor_inits, floor_cpus, floor_queued = (list(c) for c in zip(*empty, strict=True))
    value, floor = statistics.median(values), statistics.median(floors)
    cpu, floor_cpu = statistics.median(cpus), statistics.median(floor_cpus)
    libraries_ms = statistics.median(row[0] for row in libraries)
    libraries_cpu = statistics.median(row[2] for row in libraries)
    return {
        "name": "lambda_api_cold_start",
        "value": round(value, 1),
        "unit": "ms",
        "floor": round(floor, 1),
        "ratio": round(value / floor, 2),
        "over_floor_ms": round(value - floor, 1),
        "range_ms": [round(min(values), 1), round(max(values), 1)],
        "init_ms": round(statistics.median(inits), 1),
        "floor_init_ms": round(statistics.median(floor_inits), 1),
        "cpu_ms": round(cpu, 1),
        "floor_cpu_ms": round(floor_cpu, 1),
        "cpu_over_floor_ms": round(cpu - floor_cpu, 1),
        "runqueue_ms": round(statistics.median(queued), 1),
        "floor_runqueue_ms": round(statistics.median(floor_queued), 1),
        "libraries_over_floor_ms": round(libraries_ms - floor, 1),
        "libraries_cpu_over_floor_ms": round(libraries_cpu - floor_cpu, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_over_floor_ms": 250,
    }
