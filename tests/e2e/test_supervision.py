"""`make run` survives a SIGKILL of its scheduler or its server (issue 22, item 7).

`workers.run` is started as `make run` starts it; the test kills its real children (found
by parent pid in /proc), sees them come back, and sees a payment still settle.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra import procs
from tests.conftest import ROOT, free_port, wait_until


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int, str, Path]]:
    """`workers.run` on a free port: (its process, port, the API key it printed, its log)."""
    port = free_port()
    log = tmp_path / "run.log"
    env = {**os.environ, "PORT": str(port), "STAGE": "test", "SERVE_WORKERS": "2"}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        key = wait_until(
            lambda: re.search(r"API key:\s+(sk_test_\S+)", log.read_text()), timeout=60
        )
        wait_until(lambda: _healthy(port), timeout=60)
        yield process, port, key.group(1), log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _replaced(parent: int, needle: str, old: int) -> int | None:
    pid = procs.child_running(parent, needle)
    return pid if pid not in (None, old) else None


def test_a_killed_scheduler_and_server_come_back_and_payments_settle(running) -> None:
    process, port, key, log = running
    scheduler = wait_until(lambda: procs.child_running(process.pid, "workers.scheduler"))
    os.kill(scheduler, signal.SIGKILL)
    wait_until(lambda: _replaced(process.pid, "workers.scheduler", scheduler), timeout=15)
    assert re.search(rf"\[run\] scheduler \(pid {scheduler}\) exited with -9", log.read_text())

    server = procs.child_running(process.pid, "workers.serve")
    assert server is not None
    os.kill(server, signal.SIGKILL)  # its forked workers follow it within a second
    wait_until(lambda: _replaced(process.pid, "workers.serve", server), timeout=15)
    wait_until(lambda: _healthy(port), timeout=30)
    assert process.poll() is None, "workers.run exited"

    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ) as client:
        created = client.post(
            "/api/v1/payments",
            json={
                "order_id": f"supervised_{uuid.uuid4().hex[:12]}",
                "amount": 1000,
                "currency": "INR",
                "method": "upi",
                "vpa": "success@upi",
            },
        )
        assert created.status_code == 202, created.text
        payment = created.json()["id"]
        wait_until(
            lambda: client.get(f"/api/v1/payments/{payment}").json()["status"] == "SUCCESS",
            timeout=30,
        )
