"""Two starters of one service at the same moment (the stack's supervisor and a test
that restarts the emulator, or a second `make run`) leave one process, and the pid file
names it: before the start lock, both saw the port free, the loser could not bind, and
its pid file could be the one left, so that `make stack-down` stopped nothing and the
winner outlived the stack (seen after `test_emulator_restart`)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from infra import procs, stack_services
from infra.stack_base import HOST, port_open
from tests.support import free_port, wait_until


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_starts_leave_one_emulator_named_by_its_pid_file(
    tmp_path: Path, monkeypatch, attempt: int
) -> None:
    port = free_port()
    monkeypatch.setattr(stack_services, "AWS_PORT", port)
    monkeypatch.setattr(stack_services, "STACK_DIR", tmp_path)
    pids: list[int] = []
    original_popen = stack_services.subprocess.Popen

    def recording_popen(*args, **kwargs):  # type: ignore[no-untyped-def]
        proc = original_popen(*args, **kwargs)
        pids.append(proc.pid)
        return proc

    monkeypatch.setattr(stack_services.subprocess, "Popen", recording_popen)
    gate = threading.Barrier(2)
    results: list[bool] = []

    def start() -> None:
        gate.wait()
        results.append(stack_services.start_aws_emulator())

    threads = [threading.Thread(target=start) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(results) == [False, True]  # one started it, the other found it up
        assert len(pids) == 1
        named = int((tmp_path / "moto" / "moto.pid").read_text())
        assert named == pids[0] and procs.alive(named)
    finally:
        stack_services.stop_aws_emulator()
        for pid in pids:
            if procs.alive(pid):
                os.killpg(pid, signal.SIGKILL)  # started in a session of its own
        wait_until(lambda: not port_open(HOST, port), timeout=30)
