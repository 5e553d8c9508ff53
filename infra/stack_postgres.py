"""The local stack's PostgreSQL: initdb/pg_ctl under `.stack/` (as `postgres` when root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from infra.stack_base import (
    DATABASES,
    HOST,
    PG_PORT,
    PG_USER,
    ROOT,
    STACK_DIR,
    _kill_pidfile,  # noqa: F401
    log,
    port_open,
    run,
)


# --------------------------------------------------------------------------- postgres
def _pg_bindir() -> Path:
    override = os.environ.get("PG_BINDIR")
    if override:
        return Path(override)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit(
        "[stack] PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin and PATH). "
        "Install PostgreSQL 15 (apt-get install postgresql-15), set PG_BINDIR, "
        "or give DATABASE_URL."
    )


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_data_dir() -> Path:
    """The data directory: under .stack/, or (root, untraversable project) linked from there."""
    link = STACK_DIR / "postgres"
    if link.is_symlink() or link.exists():
        return link.resolve()
    if os.geteuid() == 0:
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(STACK_DIR)],
            check=False,
        )
        if probe.returncode != 0:
            # The postgres user cannot reach the project (e.g. under /root): keep the
            # data in /var/tmp and leave a symlink under .stack/ so it is still found.
            # (bandit B108: a developer's machine; made once, then found through the link)
            var_tmp = Path("/var/tmp")  # nosec B108
            target = var_tmp / f"gateway-postgres-{abs(hash(str(ROOT))) % 10**8}"
            target.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target)
            return target
    link.mkdir(parents=True, exist_ok=True)
    return link


def start_postgres(data: Path | None = None, port: int = PG_PORT) -> bool:
    """Start PostgreSQL (durable: infra/durability.py) unless it already answers; True if started.

    `data` and `port` default to the stack's own; the durability test starts another.
    """
    from infra.durability import POSTGRES_DURABLE_OPTIONS

    if port_open(HOST, port):
        return False
    bindir = _pg_bindir()
    data = data or _pg_data_dir()
    if os.geteuid() == 0:
        run(["chown", "-R", "postgres:postgres", str(data)])
    if not (data / "PG_VERSION").exists():
        log(f"initdb {data}")
        run(
            _as_pg_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    PG_USER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
    log(f"starting PostgreSQL on {HOST}:{port}")
    options = (
        f"-p {port} -c listen_addresses={HOST} -k {data} -c max_connections=200 "
        f"{POSTGRES_DURABLE_OPTIONS} -c shared_buffers=256MB"
    )
    run(
        _as_pg_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(data / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        ),
        stdout=subprocess.DEVNULL,
    )
    return True


def stop_postgres(data: Path | None = None) -> None:
    data = data or _pg_data_dir()
    if (data / "postmaster.pid").exists():
        log("stopping PostgreSQL")
        subprocess.run(
            _as_pg_user(
                [str(_pg_bindir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
        )


def drop_database(base_url: str, name: str) -> None:
    """Drop `name` (closing its sessions), so that the next create starts it empty."""
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_databases(base_url: str, names: tuple[str, ...] = DATABASES) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(f"{base_url}/postgres", autocommit=True, connect_timeout=3)
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    with conn:
        existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                try:
                    conn.execute(f'CREATE DATABASE "{name}"')
                except psycopg.errors.DuplicateDatabase:
                    pass
