"""The first hour (issue 29): `make run`'s console stays quiet and its merchant stays the
same across restarts; `make reset` drops the local data, asking first."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from infra import reset
from tests.conftest import ROOT, free_port, wait_until


def _make_run(tmp_path: Path, name: str) -> tuple[subprocess.Popen, Path, int]:
    port = free_port()
    console = tmp_path / f"{name}.console"
    env = {**os.environ, "PORT": str(port), "STAGE": "test"}
    with open(console, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.run"], cwd=ROOT, env=env,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    wait_until(lambda: re.search(r"API key:\s+sk_test_", console.read_text()), timeout=60)
    return process, console, port


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=30)


def test_the_console_is_quiet_and_the_merchant_the_same_after_a_restart(
    tmp_path: Path,
) -> None:
    process, console, port = _make_run(tmp_path, "first")
    try:
        wait_until(lambda: _healthy(port), timeout=60)
        key = re.search(r"API key:\s+(sk_test_\S+)", console.read_text()).group(1)
        paid = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/payments",
            headers={"Authorization": f"Bearer {key}"},
            json={"order_id": f"quiet_{time.time_ns()}", "amount": 100, "currency": "INR",
                  "method": "upi", "vpa": "success@upi"},
        )  # fmt: skip
        assert paid.status_code == 202
        logs = ROOT / ".stack" / "logs" / "scheduler.log"
        # The scheduler's metrics and summaries reach its log file (it ran a handler)...
        wait_until(lambda: logs.exists() and '"_aws"' in logs.read_text(), timeout=30)
        time.sleep(3)  # ...for a few seconds of scheduler runs, none of it on the console
        text = console.read_text()
        assert '"_aws"' not in text and "process_payments summary" not in text
        assert "prune_idempotency_keys summary" not in text
        assert len(text.splitlines()) < 40, text[-2000:]
    finally:
        _stop(process)
    again, console_again, _ = _make_run(tmp_path, "second")
    try:
        text = console_again.read_text()
        assert f"API key:       {key}" in text and "(the same as last time)" in text
    finally:
        _stop(again)


def test_reset_asks_and_then_deletes_the_local_data(tmp_path: Path) -> None:
    stack = tmp_path / ".stack"
    (stack / "postgres").mkdir(parents=True)
    (stack / "gateway-credentials.json").write_text("{}")
    stopped: list[bool] = []
    assert reset.reset(False, answer="no", stack_dir=stack, stop=lambda: stopped.append(True)) == 1
    assert stack.exists() and not stopped, "a no deletes nothing"
    assert reset.reset(False, answer="yes", stack_dir=stack, stop=lambda: stopped.append(True)) == 0
    assert not stack.exists() and stopped == [True]
    (stack / "redis").mkdir(parents=True)
    assert reset.reset(True, stack_dir=stack, stop=lambda: None) == 0  # FORCE=1: no question
    assert not stack.exists()


def test_reset_refuses_while_make_run_runs(tmp_path: Path) -> None:
    process, _, _ = _make_run(tmp_path, "busy")
    try:
        stack = tmp_path / ".stack"
        stack.mkdir()
        assert reset.reset(True, stack_dir=stack, stop=lambda: None) == 1
        assert stack.exists()
    finally:
        _stop(process)
