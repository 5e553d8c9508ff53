"""What every part of the local stack shares: its ports, paths and small helpers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
STACK_DIR = ROOT / ".stack"
PG_PORT = int(os.environ.get("GATEWAY_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("GATEWAY_REDIS_PORT", "63799"))
AWS_PORT = int(os.environ.get("GATEWAY_AWS_PORT", "4566"))
ACQUIRER_PORT = int(os.environ.get("GATEWAY_ACQUIRER_PORT", "18090"))
HOST = "127.0.0.1"
PG_USER = "gateway"
DATABASES = ("gateway", "gateway_test")


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise SystemExit(f"[stack] {what} did not start listening on {host}:{port} in {seconds:.0f}s")


def url_reachable(url: str) -> bool:
    parts = urlsplit(url)
    default = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "http": 80, "https": 443}
    return port_open(parts.hostname or HOST, parts.port or default.get(parts.scheme, 80))


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kwargs)


@dataclass
class Stack:
    """URLs of the services and which of them this process started."""

    database_base_url: str
    redis_base_url: str
    aws_endpoint_url: str
    started: list[str] = field(default_factory=list)
    mode: str = "local"
    acquirer_url: str = f"http://{HOST}:{ACQUIRER_PORT}"

    def env(self, database: str, redis_db: int) -> dict[str, str]:
        return {
            "DATABASE_URL": f"{self.database_base_url}/{database}",
            "REDIS_URL": f"{self.redis_base_url}/{redis_db}",
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "ACQUIRER_URL": self.acquirer_url,
        }


@contextmanager
def start_lock(directory: Path) -> Iterator[None]:
    """Hold `directory/start.lock`: a service's start (port check to pid file) and the end
    of its stop (the pid file's removal) never interleave between processes (the stack's
    supervisor, a test that restarts a service, a second `make run`)."""
    import fcntl

    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _kill_pidfile(pidfile: Path, what: str) -> None:
    """Stop the process the pid file names, then remove the file if it still names it.

    A process that this one started and has not reaped stays a zombie, which `kill(pid,
    0)` still finds: `procs.alive` does not. Meanwhile the stack's supervisor may have
    started the service again and written its own pid: that file is left alone (removing
    it orphaned the new process, which then outlived the stack)."""
    from infra import procs

    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    log(f"stopping {what}")
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not procs.alive(pid):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    with start_lock(pidfile.parent):
        try:
            if int(pidfile.read_text().strip()) == pid:
                pidfile.unlink()
        except (OSError, ValueError):
            pass
