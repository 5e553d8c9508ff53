"""What a payment costs on Lambda: billed ms and peak memory through the runtime client.

The prod zip (`make package`) runs under `awslambdaric` against our runtime API
(tests/lambda_function.py), with the template's handlers, memory and prod environment,
as in `tests/packaging/test_lambda_runtime.py`. Figures, one JSON line each:

- the API's cold start and SnapStart restore (bench/lambda_cold.py);
- `lambda_accept_billed_ms`: warm creates through `app.app`, one invocation each:
  the mean billed ms per accepted payment (what is paid), p50, p90, the peak memory of
  the environment; floor: the same statements issued directly (`bench.floor`), per call.
- `lambda_drain_billed_ms_per_payment`: `process_payments` on a warm environment
  draining `DRAIN_PAYMENTS` payments at the prod stage's batch size, billed ms summed
  over its invocations per payment drained; floor: the bare drain statements
  (`bench.drain.direct_drain_seconds`) with the prod stage's one drain worker.

Each also carries what the servers spent per payment in that phase (Postgres CPU ms,
Redis commands) and the log bytes the function wrote per payment: the inputs of the
cost of a million payments (`bench/aws_cost.py`, `docs/deploy.md`).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import lambda_cold
from bench.common import accept_payments, drain_everything, new_merchant, set_env, settle
from bench.resources import postgres_cpu_s, redis_commands
from chalicelib import settings
from chalicelib.settings import Settings
from tests.lambda_events import create_payment_event, scheduled_event
from tests.lambda_function import (
    ExecutionEnvironment,
    FunctionSpec,
    LocalStack,
    functions,
    runtime_dir,
    unpack_read_only,
)

ACCEPTS = int(os.environ.get("BENCH_LAMBDA_ACCEPTS", "300"))
DRAIN_PAYMENTS = int(os.environ.get("BENCH_LAMBDA_PAYMENTS", "5000"))
DEFAULTS = Settings.model_fields
NOOP = "def handler(event, context):\n    return {}\n"
#: The libraries the first create cannot do without, and nothing of ours: Chalice, pydantic
#: with one model validated (its schema machinery), redis-py, psycopg and its pool.
LIBRARIES = (
    "import chalice, psycopg, psycopg_pool, redis\n"
    "from pydantic import BaseModel\n\n\n"
    "class Model(BaseModel):\n    amount: int\n\n\n"
    "Model(amount=1)\n\n\n" + NOOP
)


@dataclass
class Rig:
    tmp: Path
    task_root: Path
    noop_root: Path
    libraries_root: Path
    runtime: Path
    stack: LocalStack
    specs: dict[str, FunctionSpec]
    started: int = 0

    def start(
        self, name: str, noop: bool = False, snapstart: bool = False, libraries: bool = False
    ) -> ExecutionEnvironment:
        """An environment of the function `name`; `noop`: a handler returning `{}` instead,
        alone (`noop_root`) or, with `libraries`, after importing `LIBRARIES`."""
        self.started += 1
        root = self.libraries_root if libraries else self.noop_root if noop else self.task_root
        return ExecutionEnvironment(
            self.specs[name],
            root,
            self.runtime,
            self.stack,
            self.tmp / f"{name}-{self.started}.log",
            handler="libraries.handler" if libraries else "noop.handler" if noop else None,
            snapstart=snapstart,
        )


@contextmanager
def rig(zip_path: Path, sam: dict[str, Any]) -> Iterator[Rig]:
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp:
        root = Path(tmp)
        task = unpack_read_only(zip_path, root / "task")
        noop = root / "noop"
        noop.mkdir()
        (noop / "noop.py").write_text(NOOP)
        libraries = root / "libraries"  # the zip's packages, and a handler importing some
        libraries.mkdir()
        for entry in task.iterdir():
            (libraries / entry.name).symlink_to(entry)
        (libraries / "libraries.py").write_text(LIBRARIES)
        try:
            runtime, stack = runtime_dir(root / "runtime"), LocalStack()
            yield Rig(root, task, noop, libraries, runtime, stack, functions(sam))
        finally:
            for path in [task, *task.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)


@dataclass
class Spent:
    """Postgres CPU, Redis commands and log bytes between `start` and `stop`."""

    env: ExecutionEnvironment
    pg_s: float = 0.0
    redis: int = 0
    log_bytes: int = 0

    def start(self) -> None:
        self.pg_s, self.redis = -postgres_cpu_s(), -redis_commands()
        self.log_bytes = -self._log_size()

    def stop(self) -> None:
        self.pg_s += postgres_cpu_s()
        self.redis += redis_commands()
        self.log_bytes += self._log_size()

    def _log_size(self) -> int:
        self.env.log_text()  # flushes
        return self.env.log_path.stat().st_size

    def per_payment(self, payments: int) -> dict[str, float]:
        return {
            "postgres_cpu_ms_per_payment": round(self.pg_s * 1000 / payments, 3),
            "redis_commands_per_payment": round(self.redis / payments, 2),
            "log_bytes_per_payment": round(self.log_bytes / payments, 1),
        }


def _direct_accept_ms(merchant_id: str, count: int) -> list[float]:
    from bench.floor import connect, direct_accept
    from chalicelib.adapters.redis_client import get_redis

    tag, times = uuid.uuid4().hex[:8], []
    with connect() as conn:
        for i in range(count):
            body = {"order_id": f"floor_{tag}_{i}", "amount": 50000, "currency": "INR"}
            body |= {"method": "upi", "vpa": "success@upi"}
            started = time.perf_counter()
            direct_accept(conn, get_redis(), merchant_id, body, f"idem_floor_{tag}_{i}")
            times.append((time.perf_counter() - started) * 1000)
    return times


def measure_accept(r: Rig, count: int = ACCEPTS) -> dict[str, Any]:
    merchants = [new_merchant() for _ in range(max(1, count // 150))]  # under the rate limit
    env = r.start("app")
    try:
        env.wait_ready()
        env.invoke(create_payment_event(merchants[0].api_key, f"warm_{uuid.uuid4().hex[:12]}"))
        spent = Spent(env)
        spent.start()
        billed = []
        for i in range(count):
            key = merchants[i % len(merchants)].api_key
            done = env.invoke(create_payment_event(key, f"acc_{uuid.uuid4().hex[:12]}"))
            assert done.error is None and done.result["statusCode"] == 202, done.response
            billed.append(done.billed_ms)
        spent.stop()
        peak = env.peak_rss_mb()
    finally:
        env.stop()
    floor = _direct_accept_ms(merchants[0].merchant_id, count)
    noop_billed, noop_peak = _noop(r, count)
    value = statistics.fmean(billed)
    return {
        "name": "lambda_accept_billed_ms",
        "value": round(value, 2),
        "unit": "billed ms per accepted payment",
        "floor": round(statistics.fmean(floor), 2),
        "ratio": round(value / statistics.fmean(floor), 2),
        "p50_ms": statistics.median(billed),
        "p90_ms": statistics.quantiles(billed, n=10)[-1],
        "runtime_floor_billed_ms": round(statistics.fmean(noop_billed), 2),
        "memory_mb": r.specs["app"].memory_mb,
        "peak_rss_mb": round(peak, 1),
        "runtime_floor_peak_rss_mb": round(noop_peak, 1),
        "invocations": count,
        **spent.per_payment(count),
    }


def _noop(r: Rig, count: int) -> tuple[list[int], float]:
    """The runtime client's own cost: billed ms of a handler returning `{}`, and its peak."""
    env = r.start("app", noop=True)
    try:
        env.wait_ready()
        billed = [env.invoke({}).billed_ms for _ in range(count)]
        return billed, env.peak_rss_mb()
    finally:
        env.stop()


def measure_drain(r: Rig, count: int = DRAIN_PAYMENTS) -> dict[str, Any]:
    from bench.drain import direct_drain_seconds

    spec = r.specs["process_payments"]
    before = os.environ.get("DRAIN_WORKERS")
    set_env(DRAIN_WORKERS=spec.variables["DRAIN_WORKERS"])  # the floor's loops
    drain_everything()
    merchant = new_merchant()
    env = r.start("process_payments")
    try:
        env.wait_ready()
        env.invoke(scheduled_event("process_payments"))  # the cold one, on an empty queue
        accept_payments(merchant.merchant_id, count)
        settle()
        spent = Spent(env)
        spent.start()
        drained = billed = invocations = 0
        while drained < count:
            done = env.invoke(scheduled_event("process_payments"))
            summary = done.result
            assert "error" not in summary and summary["claimed"], summary
            drained += summary["succeeded"]
            billed += done.billed_ms
            invocations += 1
        spent.stop()
        peak = env.peak_rss_mb()
    finally:
        env.stop()
    accept_payments(merchant.merchant_id, count)
    settle()
    floor = direct_drain_seconds(0) * 1000 / count
    if before is None:
        os.environ.pop("DRAIN_WORKERS", None)
    else:
        os.environ["DRAIN_WORKERS"] = before
    settings.reset_settings()
    value = billed / drained
    return {
        "name": "lambda_drain_billed_ms_per_payment",
        "value": round(value, 4),
        "unit": "billed ms per drained payment",
        "floor": round(floor, 4),
        "ratio": round(value / floor, 2),
        "payments": drained,
        "invocations": invocations,
        "batch_size": int(spec.variables.get("BATCH_SIZE", DEFAULTS["batch_size"].default)),
        "drain_workers": int(spec.variables["DRAIN_WORKERS"]),
        "memory_mb": spec.memory_mb,
        "peak_rss_mb": round(peak, 1),
        **spent.per_payment(drained),
    }


def measure(zip_path: Path, cold_only: bool = False) -> list[dict[str, Any]]:
    sam_path = zip_path.parent / "sam.json"
    sam = json.loads(sam_path.read_text())
    with rig(zip_path, sam) as r:
        figures = [] if cold_only else [measure_accept(r), measure_drain(r)]
        api_key = new_merchant().api_key
        figures += [lambda_cold.measure_cold(r, api_key), lambda_cold.measure_restore(r, api_key)]
    return figures


def main(cold_only: bool = False) -> int:
    """The Lambda figures; `cold_only` (BENCH_ONLY=lambda_cold): the cold start and the
    restore alone."""
    from bench.__main__ import emit
    from bench.cold_start import build_zip

    with tempfile.TemporaryDirectory(prefix="bench-package-") as out:
        for figure in measure(build_zip(Path(out) / "build"), cold_only):
            emit(figure)
    return 0
