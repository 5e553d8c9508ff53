"""The first hour (issue 29): `make run`'s console stays quiet and its merchant stays the
same across restarts; `make reset` drops the local data, asking first."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from infra import reset
from tests.support import ROOT, make_run, wait_until


def _summaries(log: Path) -> int:
    """How many `process_payments` runs have written their summary to the log file."""
    return log.read_text().count("process_payments summary") if log.exists() else 0


def test_the_console_is_quiet_and_the_merchant_the_same_after_a_restart(
    tmp_path: Path,
) -> None:
    logs = ROOT / ".stack" / "logs" / "scheduler.log"
    with make_run(tmp_path / "first.console") as run:
        key = run.api_key
        paid = httpx.post(
            f"{run.base_url}/api/v1/payments",
            headers={"Authorization": f"Bearer {key}"},
            json={"order_id": f"quiet_{time.time_ns()}", "amount": 100, "currency": "INR",
                  "method": "upi", "vpa": "success@upi"},
        )  # fmt: skip
        assert paid.status_code == 202
        # The scheduler's metrics and summaries reach its log file (it ran a handler)...
        wait_until(lambda: logs.exists() and '"_aws"' in logs.read_text(), timeout=30)
        # ...and three more runs of it, none of them on the console.
        seen = _summaries(logs)
        wait_until(lambda: _summaries(logs) >= seen + 3, timeout=60)
        text = run.console.read_text()
        assert '"_aws"' not in text and "process_payments summary" not in text
        assert "prune_idempotency_keys summary" not in text
        assert len(text.splitlines()) < 40, text[-2000:]
    with make_run(tmp_path / "second.console", wait_healthy=False) as again:
        text = again.console.read_text()
        assert f"API key:       {key}" in text and "(the same as last time)" in text


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
    with make_run(tmp_path / "busy.console", wait_healthy=False):
        stack = tmp_path / ".stack"
        stack.mkdir()
        assert reset.reset(True, stack_dir=stack, stop=lambda: None) == 1
        assert stack.exists()
