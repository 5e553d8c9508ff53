"""A dedicated acquirer process (infra/acquirer) for tests that set faults or restart it.

Each gets its own port and data directory, so its faults and books never reach the
stack's shared acquirer or another test.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.support import ROOT, free_port


class AcquirerProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.admin = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> None:
        log = open(self.data_dir / f"acquirer-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.acquirer",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.wait_healthy()

    def wait_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while True:
            assert self.process is not None and self.process.poll() is None, "acquirer exited"
            try:
                if self.admin.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the acquirer did not answer /health")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def set_faults(self, **config: Any) -> None:
        assert self.admin.put("/admin/faults", json=config).status_code == 200

    def clear_faults(self) -> None:
        assert self.admin.delete("/admin/faults").status_code == 200

    def books_for(self, payment_id: str) -> dict[str, list[dict[str, Any]]]:
        """The payment's charges and refunds in the books: {"charges": [...], "refunds": [...]}."""
        return self.admin.get("/admin/books", params={"payment_id": payment_id}).json()

    def charges_for(self, payment_id: str) -> list[dict[str, Any]]:
        return self.books_for(payment_id)["charges"]

    def books(self) -> dict[str, Any]:
        return self.admin.get("/admin/books").json()


def started(data_dir: Path) -> Iterator[AcquirerProcess]:
    """An acquirer process keeping its books in `data_dir`, for a fixture's lifetime
    (`yield from started(path)`); stopped when the fixture ends."""
    process = AcquirerProcess(data_dir)
    process.start()
    yield process
    process.stop()
