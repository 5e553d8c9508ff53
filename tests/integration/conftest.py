"""Fixtures of the integration tests that talk to the acquirer stand-in over plain HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.acquirer_process import AcquirerProcess, started


@pytest.fixture(scope="module")
def acquirer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AcquirerProcess]:
    """A `python -m infra.acquirer` of the module's own (its port and books); a module
    whose tests need a fresh one each defines its own `acquirer`."""
    yield from started(Path(tmp_path_factory.mktemp("acquirer")))


@pytest.fixture
def client(acquirer: AcquirerProcess) -> Iterator[httpx.Client]:
    """An HTTP client of `acquirer`, its faults cleared."""
    acquirer.clear_faults()
    with httpx.Client(base_url=acquirer.url, timeout=30) as session:
        yield session
