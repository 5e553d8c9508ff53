"""`make run`: a test merchant, the API server and the scheduler, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    env = {**os.environ, "STAGE": os.environ.get("STAGE", "local")}
    port = env.setdefault("PORT", "8000")
    created = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-merchant", "--name", "Local test merchant"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    merchant = json.loads(created.stdout)
    operator_created = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-operator-key", "--name", "Local operator"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    operator = json.loads(operator_created.stdout)
    print(
        "\n"
        f"  Test merchant: {merchant['merchant_id']}\n"
        f"  API key:       {merchant['api_key']}\n"
        f"  API:           http://127.0.0.1:{port}/api/v1  (GET /health, /api/v1/openapi.json)\n"
        f"  Dashboard:     http://127.0.0.1:{port}/dashboard  (sign in with the API key)\n"
        f"  Operator key:  {operator['operator_key']}  (the dashboard's operator view)\n"
        "  Ctrl-C stops the server, the scheduler and the services started for them.\n",
        flush=True,
    )
    children = [
        subprocess.Popen([sys.executable, "-m", "workers.serve"], env=env),
        subprocess.Popen([sys.executable, "-m", "workers.scheduler"], env=env),
    ]
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())
