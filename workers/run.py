"""`make run`: a test merchant, the API server and the scheduler, until Ctrl-C or SIGTERM.

The server and the scheduler are supervised: one that dies (a crash, a SIGKILL) is
restarted after a backoff, with one line on stderr, and the other keeps running.
Redis, Postgres, the emulator and the acquirer are supervised by the stack process that
runs this one (infra/stack.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit


def main() -> int:
    env = {**os.environ, "STAGE": os.environ.get("STAGE", "local")}
    port = env.setdefault("PORT", "8000")
    stack = Path(__file__).resolve().parent.parent / ".stack"
    database = urlsplit(env.get("DATABASE_URL", "")).path.lstrip("/") or "gateway"
    ensured = subprocess.run(
        [sys.executable, "-m", "workers.admin", "local-credentials",
         "--file", str(stack / f"{database}-credentials.json")],
        env=env, check=False, capture_output=True, text=True,
    )  # fmt: skip
    if ensured.returncode != 0:
        print(f"[run] could not get the local merchant:\n{ensured.stderr}", file=sys.stderr)
        return 1
    keys = json.loads(ensured.stdout)
    logs = stack / "logs"
    print(
        "\n"
        f"  Test merchant: {keys['merchant_id']}"
        f"{'  (the same as last time)' if keys['reused'] else ''}\n"
        f"  API key:       {keys['api_key']}\n"
        f"  API:           http://127.0.0.1:{port}/api/v1  (GET /health, /api/v1/openapi.json)\n"
        f"  Dashboard:     http://127.0.0.1:{port}/dashboard  (sign in with the API key)\n"
        f"  Operator key:  {keys['operator_key']}  (the dashboard's operator view)\n"
        f"  Logs:          {logs}/  (make logs)\n"
        "  Ctrl-C stops the server, the scheduler and the services started for them;\n"
        "  until then, any of them that dies is restarted.\n",
        flush=True,
    )
    # The scheduler's handler summaries and metrics go to a log file; its warnings
    # still reach this console (chalicelib/logging_setup.py, LOG_FILE).
    scheduler_env = {**env, "LOG_FILE": str(logs / "scheduler.log")}
    children = [
        Supervised("server", [sys.executable, "-m", "workers.serve"], env),
        Supervised("scheduler", [sys.executable, "-m", "workers.scheduler"], scheduler_env),
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for child in children:
        child.start()
    while not stopping:
        for child in children:
            child.check()
        time.sleep(0.2)
    for child in children:
        child.terminate()
    deadline = time.monotonic() + 20
    for child in children:
        child.wait(deadline)
    return 0


class Supervised:
    """One child process, restarted when it dies, with a backoff that grows while it keeps
    dying soon after start (1 s doubling to 30 s; back to 1 s once it has run 30 s)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name, self.command, self.env = name, command, env
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.backoff_s = 0.0
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, env=self.env)
        self.started = time.monotonic()
        self.restart_at = None

    def check(self) -> None:
        """Restart the child if it died and its backoff has passed."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
            return
        if self.process is None or (code := self.process.poll()) is None:
            return
        lived = now - self.started
        self.backoff_s = 1.0 if lived >= 30 else min(30.0, max(1.0, self.backoff_s * 2))
        self.restart_at = now + self.backoff_s
        print(
            f"[run] {self.name} (pid {self.process.pid}) exited with {code} after {lived:.1f} s;"
            f" restarting in {self.backoff_s:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()


if __name__ == "__main__":
    sys.exit(main())
