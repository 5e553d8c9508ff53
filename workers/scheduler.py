"""Invoke the app's scheduled handlers the way EventBridge does on AWS.

Each handler gets a real scheduled-event payload and a Lambda context with a
deadline (the function's configured timeout), at the rate it declares, or every
SCHEDULER_INTERVAL_S seconds when that is set (the local stage uses 1 s).

  python -m workers.scheduler --once   # each handler once, one JSON line each
  python -m workers.scheduler          # forever, until SIGINT/SIGTERM
  python -m workers.scheduler --check-heartbeat 120   # exit 0 if alive (Docker healthcheck)

When SCHEDULER_HEARTBEAT_FILE is set, the running scheduler touches that file at
start and after every handler invocation, and `--check-heartbeat SECONDS` exits 0
only if the file was touched within SECONDS.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from chalice import Cron, Rate
from chalice.app import ScheduledEventConfig
from chalice.local import LambdaContext

from chalicelib.clock import isoformat, utcnow
from infra import stack_env
from workers.stage import load_stage

ACCOUNT = "123456789012"
_RATE_SECONDS = {Rate.MINUTES: 60, Rate.HOURS: 3600, Rate.DAYS: 86400}


def scheduled_event(rule_name: str, region: str) -> dict[str, Any]:
    """An EventBridge scheduled-event payload."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": isoformat(utcnow()).replace(".000Z", "Z"),  # type: ignore[union-attr]
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def rate_seconds(expression: Any) -> float:
    if isinstance(expression, Rate):
        return float(expression.value * _RATE_SECONDS[expression.unit])
    if isinstance(expression, Cron):
        return 60.0
    text = str(expression)
    if text.startswith("rate("):
        value, unit = text[5:-1].split()
        return float(value) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
    return 60.0


class ScheduledHandler:
    def __init__(
        self, app_module: Any, source: ScheduledEventConfig, config: Any, stage: str, region: str
    ) -> None:
        self.name = source.name
        self.function = getattr(app_module, source.handler_string.split(".")[-1])
        self.rate_s = rate_seconds(source.schedule_expression)
        scoped = config.scope(stage, source.name)
        self.timeout_s = int(scoped.lambda_timeout or 60)
        self.memory_mb = int(scoped.lambda_memory_size or 128)
        self.region = region

    def invoke(self) -> dict[str, Any]:
        context = LambdaContext(self.name, self.memory_mb, max_runtime_ms=self.timeout_s * 1000)
        try:
            result = self.function(scheduled_event(self.name, self.region), context)
        except Exception as exc:  # a failed invocation, as Lambda would report it
            return {"handler": self.name, "error": f"{type(exc).__name__}: {exc}"}
        if not isinstance(result, dict):
            result = {"result": result}
        return {"handler": self.name, **result}


def discover(stage: str | None = None) -> list[ScheduledHandler]:
    _factory, config, app = load_stage(stage)
    import app as app_module

    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    stage_name = os.environ.get("STAGE", "local")
    return [
        ScheduledHandler(app_module, source, config, stage_name, region)
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig)
    ]


def heartbeat_file() -> Path | None:
    value = os.environ.get("SCHEDULER_HEARTBEAT_FILE")
    return Path(value) if value else None


def beat(path: Path | None) -> None:
    """Touch the heartbeat file (when configured): the loop is alive."""
    if path is not None:
        try:
            path.touch()
        except OSError as exc:  # a liveness signal must never stop the scheduler
            print(json.dumps({"heartbeat_error": str(exc)}), file=sys.stderr, flush=True)


def heartbeat_fresh(path: Path | None, max_age_s: float) -> bool:
    if path is None:
        return False
    try:
        return time.time() - path.stat().st_mtime <= max_age_s
    except OSError:
        return False


#: Locally, a day of a handler's AWS schedule passes in a minute (an hourly handler runs
#: every 2.5 s, a daily one every minute), but never slower than SCHEDULER_INTERVAL_S.
TIME_COMPRESSION = 1440


def local_period_s(rate_s: float, interval_s: float | None) -> float:
    """How often a handler with this AWS rate runs under the local scheduler."""
    if interval_s is None:
        return rate_s
    return max(interval_s, rate_s / TIME_COMPRESSION)


def summary(result: dict[str, object]) -> None:
    """A handler's summary line: to LOG_FILE when the scheduler has one (make run), to
    stdout otherwise; an error also to stderr, so that it reaches the console."""
    from chalicelib.logging_setup import write_line

    line = json.dumps(result, default=str)
    if os.environ.get("LOG_FILE"):
        write_line(line)
        if result.get("error"):
            print(line, file=sys.stderr, flush=True)
    else:
        print(line, flush=True)


def run_forever(handlers: list[ScheduledHandler], interval_s: float | None) -> None:
    stop = threading.Event()
    heartbeat = heartbeat_file()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def loop(handler: ScheduledHandler) -> None:
        period = local_period_s(handler.rate_s, interval_s)
        while not stop.is_set():
            started = time.monotonic()
            result = handler.invoke()
            beat(heartbeat)
            if result.get("error") or any(
                result.get(k) for k in ("claimed", "swept", "sent", "dead_lettered")
            ):
                summary(result)
            stop.wait(max(0.0, period - (time.monotonic() - started)))

    threads = [threading.Thread(target=loop, args=(h,), name=h.name, daemon=True) for h in handlers]
    beat(heartbeat)
    for thread in threads:
        thread.start()
    print(
        json.dumps(
            {
                "scheduler": "started",
                "handlers": [h.name for h in handlers],
                "interval_s": interval_s,
            }
        ),
        flush=True,
    )
    while not stop.is_set():
        stop.wait(0.5)
    for thread in threads:
        thread.join(timeout=30)


def main(argv: list[str] | None = None) -> int:
    # Handler logs go to stderr; stdout carries one summary line per invocation.
    os.environ.setdefault("LOG_STREAM", "stderr")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--once", action="store_true", help="run every handler once and exit")
    parser.add_argument("--stage", default=None)
    parser.add_argument(
        "--check-heartbeat",
        type=float,
        metavar="SECONDS",
        help="exit 0 if SCHEDULER_HEARTBEAT_FILE was touched within SECONDS, else 1",
    )
    args = parser.parse_args(argv)
    if args.check_heartbeat is not None:
        return 0 if heartbeat_fresh(heartbeat_file(), args.check_heartbeat) else 1
    stack_env.load()  # the running stack's settings when the environment has none
    handlers = discover(args.stage)
    if args.once:
        failed = False
        for handler in handlers:
            result = handler.invoke()
            failed = failed or "error" in result
            print(json.dumps(result), flush=True)
        return 1 if failed else 0
    from chalicelib.settings import get_settings

    run_forever(handlers, get_settings().scheduler_interval_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
