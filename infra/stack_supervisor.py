"""Keep the local services a stack process started alive while its command runs.

`infra.stack run` starts Postgres, Redis, the AWS emulator and the acquirer (when none
answers yet) and then runs its command (`workers.run` for `make run`). A service that
dies meanwhile (SIGKILL, a crash, `pg_ctl -m immediate stop`) is started again here, on
its port and with its data, and the stack says so in one line: restarted, or not
restarted and why (then it tries again with a backoff). The command keeps running.

"Dead" is judged by the service's own process (its pid file), not by its port: the
acquirer closes its port on purpose during `POST /admin/down` and must not be doubled.
Docker's services have their restart policies instead (docker-compose.yml).
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra import procs
from infra.stack_base import ACQUIRER_PORT, AWS_PORT, HOST, PG_PORT, REDIS_PORT, STACK_DIR, log


@dataclass
class Service:
    name: str
    label: str
    port: int
    pidfile: Callable[[], Path]
    start: Callable[[], bool]
    backoff_s: float = 0.0
    retry_at: float = 0.0


def _pg_pidfile() -> Path:
    from infra.stack_postgres import _pg_data_dir

    return _pg_data_dir() / "postmaster.pid"


def _start_postgres() -> bool:
    from infra.stack_postgres import _pg_data_dir, start_postgres

    # A postmaster killed while unreaped (PID 1 that does not reap) still "exists" for
    # Postgres' lock-file checks: its process is gone (procs.alive said so), so its files go.
    data = _pg_data_dir()
    (data / "postmaster.pid").unlink(missing_ok=True)
    (data / f".s.PGSQL.{PG_PORT}.lock").unlink(missing_ok=True)
    return start_postgres()


def _start(name: str) -> Callable[[], bool]:
    def start() -> bool:
        from infra import stack_services

        return bool(getattr(stack_services, f"start_{name}")())

    return start


def services() -> dict[str, Service]:
    """The local services by the names infra.stack gives them in `Stack.started`."""
    return {
        "postgres": Service("postgres", "PostgreSQL", PG_PORT, _pg_pidfile, _start_postgres),
        "redis": Service(
            "redis", "Redis", REDIS_PORT, lambda: STACK_DIR / "redis" / "redis.pid", _start("redis")
        ),
        "aws": Service(
            "aws",
            "the AWS emulator",
            AWS_PORT,
            lambda: STACK_DIR / "moto" / "moto.pid",
            _start("aws_emulator"),
        ),
        "acquirer": Service(
            "acquirer",
            "the acquirer",
            ACQUIRER_PORT,
            lambda: STACK_DIR / "acquirer" / "acquirer.pid",
            _start("acquirer"),
        ),
    }


def pid_of(service: Service) -> int | None:
    """The service's live process, or None when it is dead (or its pid file is gone)."""
    try:
        pid = int(service.pidfile().read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if procs.alive(pid) else None


class ServiceSupervisor(threading.Thread):
    """A daemon thread that checks each named service every `interval_s` and restarts it."""

    def __init__(self, names: list[str], interval_s: float = 1.0) -> None:
        super().__init__(name="stack-supervisor", daemon=True)
        table = services()
        self.watched = [table[name] for name in names if name in table]
        self.interval_s = interval_s
        self.stopping = threading.Event()
        self.restarts: list[str] = []

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=120)

    def run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            for service in self.watched:
                if self.stopping.is_set():
                    return
                if pid_of(service) is None and time.monotonic() >= service.retry_at:
                    self._restart(service)

    def _restart(self, service: Service) -> None:
        where = f"{HOST}:{service.port}"
        try:
            started = service.start()
            reason = "" if started else f"something else answers on {where}"
        except (subprocess.SubprocessError, OSError, SystemExit) as exc:
            started, reason = False, (str(exc).splitlines() or [type(exc).__name__])[0]
        if not started:
            service.backoff_s = min(30.0, max(1.0, service.backoff_s * 2))
            service.retry_at = time.monotonic() + service.backoff_s
            log(
                f"{service.label} on {where} died and was not restarted ({reason});"
                f" trying again in {service.backoff_s:.0f} s"
            )
            return
        service.backoff_s = 0.0
        log(f"{service.label} on {where} died: restarted (pid {pid_of(service)})")
        self.restarts.append(service.name)  # after the line: a reader of it sees the line
