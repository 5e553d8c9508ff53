"""Sequential requests on one kept-alive connection: our local server against plain
`chalice local` serving the same app (the floor), in the same run.

Plain Chalice writes each reply in two sends and leaves Nagle's algorithm on, so
every kept-alive request waits ~40-44 ms for the client's delayed ACK, ~23 requests/s
(docs/architecture.md, "Known traps"). granian (`workers/serve.py`) sets TCP_NODELAY
on its listening socket, which accepted sockets inherit; the figure is its rate and
`ratio` how many times the floor it is (target: at least 10).
`GET /health` is the request: it reaches Postgres and Redis but writes nothing.

`python -m bench.keepalive serve-plain PORT` is the floor's server.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 10
ROUNDS = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(command: list[str], port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)  # polling the port until the server listens
    process.kill()
    raise RuntimeError(f"{command} did not start")


def _rate(port: int, requests: int) -> float:
    """Median requests/s over ROUNDS rounds of `requests` on one connection each."""
    rates = []
    for _ in range(ROUNDS):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/health")  # warm-up: the connection and the pools
            conn.getresponse().read()
            started = time.perf_counter()
            for _ in range(requests):
                conn.request("GET", "/health")
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"/health answered {response.status}")
            rates.append(requests / (time.perf_counter() - started))
        finally:
            conn.close()
    return statistics.median(rates)


def _measure_server(command: list[str], port: int, requests: int) -> float:
    process = _start(command, port)
    try:
        return _rate(port, requests)
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(requests: int = 200) -> dict[str, Any]:
    """Our server's kept-alive rate, and plain `chalice local`'s as the floor."""
    stage = os.environ.get("STAGE", "test")
    port = _free_port()
    ours = [sys.executable, "-m", "workers.serve", "--port", str(port), "--stage", stage]
    value = _measure_server(ours, port, requests)
    port = _free_port()
    plain = [sys.executable, "-m", "bench.keepalive", "serve-plain", str(port), stage]
    floor = _measure_server(plain, port, max(10, requests // 10))  # ~44 ms each
    return {
        "name": "keepalive_sequential_requests",
        "value": round(value),
        "unit": "requests/s",
        "floor": round(floor, 1),
        "ratio": round(value / floor, 1),
        "target_ratio": TARGET_RATIO,
        "meets_target": value / floor >= TARGET_RATIO,
        "requests": requests,
    }


def _serve_plain(port: int, stage: str) -> None:
    """Plain Chalice's local server, as `chalice local` builds it, for the floor."""
    from chalice import local

    from workers.stage import load_stage

    _factory, config, app = load_stage(stage)
    local.create_local_server(app, config, "127.0.0.1", port).serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve-plain"]:
        _serve_plain(int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "test")
    else:
        print(measure())
