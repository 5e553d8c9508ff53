"""The local stack's Redis, AWS emulator (moto) and acquirer processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.stack_base import (
    ACQUIRER_PORT,
    AWS_PORT,
    HOST,
    REDIS_PORT,
    ROOT,
    STACK_DIR,
    Stack,
    _kill_pidfile,
    log,
    port_open,
    run,
    start_lock,
    url_reachable,
    wait_for_port,
)


@contextmanager
def _starting(name: str) -> Iterator[Path]:
    """Hold the service's start lock from the check of its port to its pid file: the
    stack's supervisor and a test (or a second `make run`) that start it at the same
    moment would otherwise both see the port free and both start one; the loser cannot
    bind, but its pid file may be the one left, and the winner is then stopped by nobody."""
    data = STACK_DIR / name
    with start_lock(data):
        yield data


# --------------------------------------------------------------------------- redis
def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("redis-server is missing: installing Debian's redis-server package")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        run(["apt-get", "install", "-y", "-qq", "redis-server"], env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("redis-server") or "/usr/bin/redis-server"
        if Path(found).exists():
            return found
    raise SystemExit(
        "[stack] redis-server not found. Install Redis 7 (Debian: apt-get install redis-server) "
        "or give REDIS_URL."
    )


def start_redis() -> bool:
    with _starting("redis") as data:
        return _start_redis(data)


def _start_redis(data: Path) -> bool:
    from infra.durability import REDIS_DURABLE_ARGS

    if port_open(HOST, REDIS_PORT):
        return False
    server = _redis_server()
    log(f"starting Redis on {HOST}:{REDIS_PORT}")
    run(
        [
            server,
            "--port",
            str(REDIS_PORT),
            "--bind",
            HOST,
            "--daemonize",
            "yes",
            "--dir",
            str(data),
            "--pidfile",
            str(data / "redis.pid"),
            "--logfile",
            str(data / "redis.log"),
            "--save",
            "",
            *REDIS_DURABLE_ARGS,
        ]
    )
    wait_for_port(HOST, REDIS_PORT, "Redis")
    _wait_until_loaded()
    return True


def _wait_until_loaded(seconds: float = 120) -> None:
    """Redis listens before it has replayed its append-only file, and until then answers
    every command with LOADING: wait for it, so that the first request is not refused."""
    import redis

    client = redis.Redis(host=HOST, port=REDIS_PORT, socket_timeout=5)
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.ping()
            return
        except redis.BusyLoadingError:
            if time.monotonic() > deadline:
                message = f"[stack] Redis was still loading its data after {seconds:.0f}s"
                raise SystemExit(message) from None
            time.sleep(0.1)
        finally:
            client.close()


def stop_redis() -> None:
    _kill_pidfile(STACK_DIR / "redis" / "redis.pid", "Redis")


# --------------------------------------------------------------------------- aws emulator
def start_aws_emulator() -> bool:
    with _starting("moto") as data:
        return _start_aws_emulator(data)


def _start_aws_emulator(data: Path) -> bool:
    if port_open(HOST, AWS_PORT):
        return False
    if not (Path(sys.executable).parent / "moto_server").exists():
        raise SystemExit("[stack] moto_server is missing from the virtualenv (make venv)")
    log(f"starting the AWS emulator (moto) on {HOST}:{AWS_PORT}")
    with open(data / "moto.log", "ab") as out:
        # moto's server, honouring the KMS key tags that make the webhook key again
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.aws_emulator", "-H", HOST, "-p", str(AWS_PORT)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (data / "moto.pid").write_text(str(proc.pid))
    wait_for_port(HOST, AWS_PORT, "The AWS emulator")
    return True


def stop_aws_emulator() -> None:
    _kill_pidfile(STACK_DIR / "moto" / "moto.pid", "the AWS emulator")


# --------------------------------------------------------------------------- acquirer
def start_acquirer() -> bool:
    """The acquirer service (infra/acquirer) on ACQUIRER_PORT; its books in .stack/acquirer."""
    with _starting("acquirer") as data:
        return _start_acquirer(data)


def _start_acquirer(data: Path) -> bool:
    if port_open(HOST, ACQUIRER_PORT):
        return False
    log(f"starting the acquirer on {HOST}:{ACQUIRER_PORT}")
    with open(data / "acquirer.log", "ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.acquirer",
                "--host",
                HOST,
                "--port",
                str(ACQUIRER_PORT),
                "--data-dir",
                str(data),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (data / "acquirer.pid").write_text(str(proc.pid))
    wait_for_port(HOST, ACQUIRER_PORT, "The acquirer")
    return True


def stop_acquirer() -> None:
    _kill_pidfile(STACK_DIR / "acquirer" / "acquirer.pid", "the acquirer")


def _given_acquirer(stack: Stack) -> None:
    """ACQUIRER_URL given and reachable: use it; else start the local acquirer."""
    given = os.environ.get("ACQUIRER_URL")
    if given and url_reachable(given):
        stack.acquirer_url = given
        return
    STACK_DIR.mkdir(exist_ok=True)
    if start_acquirer():
        stack.started.append("acquirer")
