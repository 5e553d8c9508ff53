"""The stack's service supervisor (infra/stack_supervisor.py) with a stand-in service.

A `sleep` process with a pid file plays the service: killed, it is started again and the
stack says so in one line; a start that fails is reported and retried.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from infra import procs, stack_supervisor
from tests.support import wait_until


def _service(tmp_path: Path, fail: list[bool]) -> stack_supervisor.Service:
    pidfile = tmp_path / "service.pid"

    def start() -> bool:
        if fail and fail.pop(0):
            raise subprocess.CalledProcessError(1, ["start"])
        proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
        pidfile.write_text(str(proc.pid))
        return True

    start()
    return stack_supervisor.Service("fake", "the fake service", 1, lambda: pidfile, start)


def _another(service: stack_supervisor.Service, old: int | None) -> int | None:
    pid = stack_supervisor.pid_of(service)
    return pid if pid not in (None, old) else None


@pytest.fixture
def supervised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fail: list[bool] = []
    service = _service(tmp_path, fail)
    monkeypatch.setattr(stack_supervisor, "services", lambda: {"fake": service})
    supervisor = stack_supervisor.ServiceSupervisor(["fake"], interval_s=0.1)
    supervisor.start()
    yield service, supervisor, fail
    supervisor.stop()
    pid = stack_supervisor.pid_of(service)
    if pid:
        os.kill(pid, signal.SIGKILL)


def test_a_killed_service_is_started_again(supervised, capsys) -> None:
    service, supervisor, _fail = supervised
    first = stack_supervisor.pid_of(service)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    second = wait_until(lambda: _another(service, first), timeout=10, step=0.05)
    assert procs.alive(second)
    wait_until(lambda: supervisor.restarts == ["fake"], timeout=5, step=0.05)  # logged then
    assert "the fake service on 127.0.0.1:1 died: restarted" in capsys.readouterr().err


def test_a_failed_restart_is_reported_and_tried_again(supervised, capsys) -> None:
    service, supervisor, fail = supervised
    fail.extend([True])
    first = stack_supervisor.pid_of(service)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: _another(service, first), timeout=10, step=0.05)
    wait_until(lambda: supervisor.restarts == ["fake"], timeout=5, step=0.05)
    err = capsys.readouterr().err
    assert "died and was not restarted" in err and "trying again in 1 s" in err
