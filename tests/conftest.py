"""Shared fixtures: the test stage, merchants, a live HTTP server, the scheduler.

The suite runs against real Postgres and Redis (and moto for AWS), as started by
`make test` (`python -m infra.stack run ... -- pytest`). Tests use unique ids and
their own merchants instead of teardown, so they never depend on an empty database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ["STAGE"] = "test"

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    raise pytest.UsageError(
        "DATABASE_URL and REDIS_URL are not set: run the suite with `make test`, which "
        "starts Postgres, Redis and the AWS emulator and points the tests at them."
    )

from workers.stage import load_stage  # noqa: E402

load_stage("test")  # the test stage's variables, as Lambda would have them

from chalicelib import db  # noqa: E402
from chalicelib.services import merchants as merchant_service  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def merchant() -> merchant_service.CreatedMerchant:
    """A new merchant with its API key (each test gets its own)."""
    with db.transaction() as conn:
        return merchant_service.create_merchant(conn, "Test merchant")


@pytest.fixture
def other_merchant() -> merchant_service.CreatedMerchant:
    with db.transaction() as conn:
        return merchant_service.create_merchant(conn, "Other merchant")


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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The API served by `workers.serve` (Chalice's local server), stage `test`."""
    server = start_server(tmp_path_factory.mktemp("server"))
    yield server
    stop_server(server)


@pytest.fixture
def api(
    live_server: LiveServer, merchant: merchant_service.CreatedMerchant
) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as `merchant`."""
    with live_server.client(merchant.api_key) as client:
        yield client


class FakeContext:
    """A Lambda context with a real deadline."""

    def __init__(self, seconds: float = 60) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


@pytest.fixture
def run_processor() -> Callable[..., dict[str, Any]]:
    """Run `process_payments` once in this process, as the scheduler would."""
    from chalicelib.handlers import process_payments as batch

    def run(seconds: float = 60) -> dict[str, Any]:
        return batch.process_payments(FakeContext(seconds))

    return run


def wait_until(predicate: Callable[[], Any], timeout: float = 30, step: float = 0.2) -> Any:
    """Poll until `predicate()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(step)


#: Tiers (docs/testing.md): e2e, browser and packaging tests serve HTTP from other
#: processes or build things; an integration module that starts a process is slow too.
SLOW_FOLDERS = ("e2e", "browser", "packaging")
_STARTS_PROCESSES = ("subprocess", "Popen", "AcquirerProcess", "acquirer_process")
_module_starts_processes: dict[Path, bool] = {}


def _is_slow(item: pytest.Item) -> bool:
    path = Path(str(item.path))
    if path.parent.name in SLOW_FOLDERS:
        return True
    if path not in _module_starts_processes:
        source = path.read_text()
        _module_starts_processes[path] = any(word in source for word in _STARTS_PROCESSES)
    return _module_starts_processes[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the slow tier (`make test-fast` deselects it: `-m "not slow"`), and run the
    chaos soak (marker `soak`) last: it kills and restarts the stack's Postgres and
    Redis, so no other test may meet a connection it broke."""
    for item in items:
        if _is_slow(item):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("soak") is not None)
