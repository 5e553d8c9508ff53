"""A durable Postgres of the benchmark's own: fsync, synchronous_commit and full-page
writes on, as `make run` keeps them after the hardening issue.

`fsync` is a server-wide setting (it cannot be turned on for one database), so the
fast stack's server cannot stand in for it: this is a second server, in its own data
directory, on GATEWAY_PG_PORT + 1, started and stopped by `make bench`. Group commit
(`commit_delay`, `commit_siblings`) is set per database here so that one server
measures every setting.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from infra import stack

PORT = stack.PG_PORT + 1
DATABASE = "gateway_bench_durable"


def _data_dir() -> Path:
    """Under .stack/ unless the postgres user cannot reach the project (then /var/tmp)."""
    inside = stack.STACK_DIR / "postgres-bench-durable"
    if os.geteuid() == 0:
        probe = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(stack.STACK_DIR)], check=False
        )
        if probe.returncode != 0:
            return Path("/var/tmp") / f"gateway-bench-durable-{PORT}"
    return inside


def base_url() -> str:
    return f"postgresql://{stack.PG_USER}@{stack.HOST}:{PORT}"


@contextmanager
def durable_postgres() -> Iterator[str]:
    """Start the durable server (initdb on first use), migrate its database, yield its URL,
    stop it afterwards. It is the stack's own server start (`stack.start_postgres`: fsync,
    synchronous_commit and full-page writes on) in another data directory and port."""
    data = _data_dir()
    data.mkdir(parents=True, exist_ok=True)
    started = stack.start_postgres(data, PORT)
    try:
        stack.create_databases(base_url(), (DATABASE,))
        url = f"{base_url()}/{DATABASE}"
        from infra.migrate import migrate

        migrate(url)
        yield url
    finally:
        if started:
            stack.stop_postgres(data)


def set_group_commit(url: str, delay_us: int, siblings: int) -> None:
    """Group commit for new sessions of the database (0 µs: off, Postgres's default)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {DATABASE} SET commit_delay = {int(delay_us)}")
        conn.execute(f"ALTER DATABASE {DATABASE} SET commit_siblings = {int(siblings)}")


def check_durable(url: str) -> dict[str, str]:
    """The settings a session of the durable database sees (asserted by the bench)."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("fsync", "synchronous_commit", "full_page_writes", "commit_delay")
        }
