"""`make run` survives a SIGKILL of its scheduler or its server (issue 22, item 7).

`workers.run` is started as `make run` starts it; the test kills its real children (found
by parent pid in /proc), sees them come back, and sees a payment still settle.
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra import procs
from tests.support import MakeRun, healthy, make_run, wait_until


@pytest.fixture
def running(tmp_path: Path) -> Iterator[MakeRun]:
    """`workers.run` on a free port, with two server workers."""
    with make_run(tmp_path / "run.log", {"SERVE_WORKERS": "2"}) as run:
        yield run


def _replaced(parent: int, needle: str, old: int) -> int | None:
    pid = procs.child_running(parent, needle)
    return pid if pid not in (None, old) else None


def test_a_killed_scheduler_and_server_come_back_and_payments_settle(running) -> None:
    process, port, key, log = running.process, running.port, running.api_key, running.console
    scheduler = wait_until(lambda: procs.child_running(process.pid, "workers.scheduler"))
    os.kill(scheduler, signal.SIGKILL)
    wait_until(lambda: _replaced(process.pid, "workers.scheduler", scheduler), timeout=15)
    assert re.search(rf"\[run\] scheduler \(pid {scheduler}\) exited with -9", log.read_text())

    server = procs.child_running(process.pid, "workers.serve")
    assert server is not None
    os.kill(server, signal.SIGKILL)  # its forked workers follow it within a second
    wait_until(lambda: _replaced(process.pid, "workers.serve", server), timeout=15)
    wait_until(lambda: healthy(running.base_url), timeout=30)
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
