"""Two starters of one service at the same moment (the stack's supervisor and a test
that restarts the emulator, or a second `make run`) leave one process, and the pid file
names it: before the start lock, both saw the port free, the loser could not bind, and
its pid file could be the one left, so that `make stack-down` stopped nothing and the
winner outlived the stack (seen after `test_emulator_restart`)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from infra import procs, stack_services
from infra.stack_base import HOST, _kill_pidfile, port_open
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


def test_a_stop_leaves_the_pid_file_of_a_restart_that_came_meanwhile(tmp_path: Path) -> None:
    """The stopped process is this one's unreaped child (a zombie once it dies, as the
    emulator is the stack's): the supervisor sees it dead at once and writes its new
    process's pid; the stop must not then remove that file."""
    old = subprocess.Popen(["sleep", "60"])  # never waited for: a zombie once killed
    new = subprocess.Popen(["sleep", "60"])
    pidfile = tmp_path / "svc" / "svc.pid"
    pidfile.parent.mkdir()
    pidfile.write_text(str(old.pid))

    def supervisor() -> None:
        wait_until(lambda: not procs.alive(old.pid), timeout=30)
        with open(pidfile.parent / "start.lock", "w") as lock:  # as stack_base.start_lock
            fcntl.flock(lock, fcntl.LOCK_EX)
            pidfile.write_text(str(new.pid))

    restarter = threading.Thread(target=supervisor)
    restarter.start()
    try:
        _kill_pidfile(pidfile, "the service")
        restarter.join(timeout=30)
        assert pidfile.read_text() == str(new.pid)
    finally:
        for proc in (old, new):
            proc.kill()
            proc.wait()
