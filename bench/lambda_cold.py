"""The API function's cold start under the Lambda runtime client (bench/lambda_cost.py's rig).

- `lambda_api_cold_start`: process start to the first create's answer (init, import,
  secrets, connections, the first request), median of `COLD_RUNS`; floor: the same
  runtime client starting a handler that returns `{}` (the empty interpreter with the
  runtime), in the same rounds. `over_floor_ms` is what the app adds.
- `lambda_api_restore_to_first_answer`: the same with SnapStart, from the restore (the
  after-restore hooks) to the first create's answer; the floor likewise.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from typing import TYPE_CHECKING, Any

from tests.lambda_events import create_payment_event
from tests.lambda_function import ExecutionEnvironment

if TYPE_CHECKING:
    from bench.lambda_cost import Rig

COLD_RUNS = int(os.environ.get("BENCH_LAMBDA_COLD_RUNS", "5"))


def _cold_ms(env: ExecutionEnvironment, event: dict[str, Any]) -> tuple[float, float]:
    """Process start to the first answer, and the init's part of it (to the first /next)."""
    try:
        init_ms = env.wait_ready()
        first = env.invoke(event)
        assert first.error is None, first.error
        assert first.done_at is not None
        return (first.done_at - env.started) * 1000, init_ms
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
    values, floors, inits, floor_inits = [], [], [], []
    for _ in range(COLD_RUNS):  # interleaved, so load on the machine hits both alike
        total, init = _cold_ms(r.start("app", noop=True), {})
        floors.append(total)
        floor_inits.append(init)
        event = create_payment_event(api_key, f"cold_{uuid.uuid4().hex[:12]}")
        total, init = _cold_ms(r.start("app"), event)
        values.append(total)
        inits.append(init)
    value, floor = statistics.median(values), statistics.median(floors)
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
        "target_over_floor_ms": 250,
    }
