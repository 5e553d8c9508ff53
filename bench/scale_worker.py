"""One `process_payments` copy for the scale-out bench: scheduled runs back to back.

    python -m bench.scale_worker <seconds>

Warms up, prints `ready`, waits for a line on stdin, then runs the handler (each run
with a Lambda-like deadline of `seconds`, the template's timeout) until a run claims
nothing, and prints one JSON line: runs, payments it succeeded, its own CPU seconds, the
seconds its threads waited for a CPU, and wall seconds. The environment is the prod
stage's drain settings (bench/scale_out.py).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def runqueue_wait_s() -> float:
    """Seconds this process's threads have waited for a CPU (ready, not running), from
    /proc/self/task/*/schedstat (its second field, nanoseconds)."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (FileNotFoundError, IndexError):
            continue
    return total / 1e9


def main(seconds: float) -> int:
    from workers.stage import load_stage

    load_stage(os.environ["STAGE"])
    from bench.common import Deadline
    from chalicelib import db
    from chalicelib.adapters.redis_client import get_redis
    from chalicelib.handlers import process_payments as batch

    with db.connection() as conn:  # warm: connections open, modules imported
        conn.execute("SELECT 1")
    get_redis().ping()
    print("ready", flush=True)
    sys.stdin.readline()  # go
    started, cpu, waited = time.perf_counter(), time.process_time(), runqueue_wait_s()
    runs = succeeded = 0
    while True:
        result = batch.process_payments(Deadline(seconds))
        runs += 1
        succeeded += result["succeeded"]
        if not result["claimed"]:
            break
    print(
        json.dumps(
            {
                "runs": runs,
                "succeeded": succeeded,
                "cpu_s": round(time.process_time() - cpu, 3),
                "runqueue_wait_s": round(runqueue_wait_s() - waited, 3),
                "wall_s": round(time.perf_counter() - started, 3),
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])))
