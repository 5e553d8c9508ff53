"""Helpers the test modules and both conftests share: free ports, the API served by
`workers.serve`, `make run` (`workers.run`), a Lambda context, and waiting on a condition.

No fixtures here (they live in tests/conftest.py and tests/browser/conftest.py), and no
import of the gateway's settings: importing this module starts nothing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float = 30, step: float = 0.2) -> Any:
    """Poll until `predicate()` is truthy; returns its value at once, or fails the test
    after `timeout` seconds (a generous bound: a loaded machine is slow, not wrong)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(step)


def healthy(base_url: str) -> bool:
    """Whether the API at `base_url` answers /health with 200."""
    try:
        return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class LiveServer:
    def __init__(self, base_url: str, log_path: Path, process: subprocess.Popen) -> None:
        self.base_url = base_url
        self.log_path = log_path
        self.process = process

    def client(self, api_key: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30, **kwargs)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(tmp_dir: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    port = free_port()
    log_path = tmp_dir / f"server-{port}.log"
    env = {**os.environ, "STAGE": "test", "PORT": str(port), **(extra_env or {})}
    out = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.serve", "--port", str(port), "--stage", "test"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code in (200, 503):
                return LiveServer(base_url, log_path, process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass(frozen=True)
class MakeRun:
    """`workers.run` as `make run` starts it: its process, port, console and the
    merchant's API key it printed."""

    process: subprocess.Popen
    port: int
    console: Path
    api_key: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def make_run(
    console: Path, extra_env: dict[str, str] | None = None, *, wait_healthy: bool = True
) -> Iterator[MakeRun]:
    """`workers.run` on a free port (stage test), its console written to `console`; yields
    once it has printed the API key (and, with `wait_healthy`, answers /health), and
    stops it (SIGTERM) on the way out."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "STAGE": "test", **(extra_env or {})}
    with open(console, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.run"], cwd=ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        key = wait_until(
            lambda: re.search(r"API key:\s+(sk_test_\S+)", console.read_text()), timeout=60
        )
        run = MakeRun(process, port, console, key.group(1))
        if wait_healthy:
            wait_until(lambda: healthy(run.base_url), timeout=60)
        yield run
    finally:
        process.terminate()
        process.wait(timeout=30)


class FakeContext:
    """A Lambda context with a real deadline."""

    def __init__(self, seconds: float = 60) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)
