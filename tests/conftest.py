"""Shared fixtures: the test stage, merchants, a live HTTP server, the scheduler.

The suite runs against real Postgres and Redis (and moto for AWS), as started by
`make test` (`python -m infra.stack run ... -- pytest`). Tests use unique ids and
their own merchants instead of teardown, so they never depend on an empty database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

os.environ["STAGE"] = "test"

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    raise pytest.UsageError(
        "DATABASE_URL and REDIS_URL are not set: run the suite with `make test`, which "
        "starts Postgres, Redis and the AWS emulator and points the tests at them."
    )

from workers.stage import load_stage

load_stage("test")  # the test stage's variables, as Lambda would have them

from chalicelib import db  # noqa: E402
from chalicelib.services import merchants as merchant_service  # noqa: E402

# The helpers live in tests/support.py. ROOT, free_port and wait_until stay importable
# from here too, for modules written before it (branches in flight import them so).
from tests.support import (  # noqa: E402
    ROOT,  # noqa: F401
    FakeContext,
    LiveServer,
    free_port,  # noqa: F401
    start_server,
    stop_server,
    wait_until,  # noqa: F401
)


@pytest.fixture
def merchant() -> merchant_service.CreatedMerchant:
    """A new merchant with its API key (each test gets its own)."""
    with db.transaction() as conn:
        return merchant_service.create_merchant(conn, "Test merchant")


@pytest.fixture
def other_merchant() -> merchant_service.CreatedMerchant:
    with db.transaction() as conn:
        return merchant_service.create_merchant(conn, "Other merchant")


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


@pytest.fixture
def run_processor() -> Callable[..., dict[str, Any]]:
    """Run `process_payments` once in this process, as the scheduler would."""
    from chalicelib.handlers import process_payments as batch

    def run(seconds: float = 60) -> dict[str, Any]:
        return batch.process_payments(FakeContext(seconds))

    return run


#: Tiers (docs/testing.md): e2e, browser and packaging tests serve HTTP from other
#: processes or build things; an integration module that starts a process is slow too.
SLOW_FOLDERS = ("e2e", "browser", "packaging")
_STARTS_PROCESSES = (
    "subprocess",
    "Popen",
    "AcquirerProcess",
    "acquirer_process",
    "start_server",  # tests.support: workers.serve
    "make_run",  # tests.support: workers.run
)
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
