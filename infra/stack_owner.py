"""One stack per checkout: a service found on the stack's port is used only if it is
this checkout's (issue 29).

The local stack starts each service with its pid in this checkout's `.stack/`
(Postgres's `postmaster.pid`, `redis.pid`, `moto.pid`, `acquirer.pid`), and runs it from
this checkout (its working directory or data directory is here). A port that answers
while neither a live process of that pid file nor a listener of this checkout holds it
belongs to someone else:
another checkout's stack, the leftovers of a run of another copy, or a service of the
developer's own. It is never touched; the stack stops with one line that names the port
and the variable that moves this checkout's stack off it. With Docker, the services of
this checkout's compose project count as its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404
from pathlib import Path

from infra.stack_base import (
    ACQUIRER_PORT,
    AWS_PORT,
    HOST,
    PG_PORT,
    REDIS_PORT,
    ROOT,
    STACK_DIR,
    port_open,
)

#: service -> (its port, the variable that moves it, its pid file under .stack/,
#: its docker-compose service)
SERVICES = {
    "postgres": (PG_PORT, "GATEWAY_PG_PORT", "postgres/postmaster.pid", "postgres"),
    "redis": (REDIS_PORT, "GATEWAY_REDIS_PORT", "redis/redis.pid", "redis"),
    "aws": (AWS_PORT, "GATEWAY_AWS_PORT", "moto/moto.pid", "localstack"),
    "acquirer": (ACQUIRER_PORT, "GATEWAY_ACQUIRER_PORT", "acquirer/acquirer.pid", "acquirer"),
}


def _pid_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def _listener_pids(port: int) -> set[int]:
    """Pids of the processes listening on `port` (Linux /proc; empty elsewhere)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(fields[9])
    pids = set()
    if not inodes:
        return pids
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    pids.add(int(proc.name))
                    break
        except OSError:
            continue
    return pids


def _belongs_here(pid: int, stack_dir: Path) -> bool:
    """The process runs from this checkout: its working directory or its command line
    is in it (Redis runs in `.stack/redis`, Postgres is given `-D .stack/postgres`)."""
    places = {str(ROOT), str(stack_dir), str(stack_dir.resolve())}
    try:
        cwd = str(Path(f"/proc/{pid}/cwd").resolve())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    data = (stack_dir / "postgres").resolve() if (stack_dir / "postgres").exists() else None
    if data is not None:
        places.add(str(data))
    return any(cwd == p or cwd.startswith(p + "/") or p in cmdline for p in places)


def _compose_runs(service: str) -> bool:
    if not shutil.which("docker"):
        return False
    try:
        found = subprocess.run(  # nosec B603 B607
            ["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "ps", "-q", service],
            capture_output=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


def is_ours(name: str, stack_dir: Path = STACK_DIR) -> bool:
    """Whether the service answering on `name`'s port was started by this checkout."""
    port, _, pid_file, compose = SERVICES[name]
    if _pid_alive(stack_dir / pid_file):
        return True
    if any(_belongs_here(pid, stack_dir) for pid in _listener_pids(port)):
        return True
    return _compose_runs(compose)


def refusal(name: str) -> str:
    port, variable, _, _ = SERVICES[name]
    return (
        f"[stack] port {port} answers, but not with this checkout's {name} ({ROOT}):"
        f" another checkout's stack, or a service of your own. Leave it alone and move"
        f" this one: {variable}=<a free port> make ... (or stop what holds {port})."
    )


def check_ports(names: tuple[str, ...] = ("postgres", "redis", "aws", "acquirer")) -> None:
    """Stop with one line if a service's port answers with someone else's service."""
    for name in names:
        port = SERVICES[name][0]
        if port_open(HOST, port) and not is_ours(name):
            raise SystemExit(refusal(name))
