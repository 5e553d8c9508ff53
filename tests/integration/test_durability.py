"""Durable by default (issue 11, item 8).

`make run`'s embedded Postgres runs with fsync and synchronous_commit on and its
Redis with an AOF flushed every second; only the test and bench stacks lower
durability, per database, and say so. A Postgres started the way `make run`
starts it, SIGKILLed (the whole server, at once) right after 202 answers, still
has every one of those payments after its restart.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import redis

from infra import stack
from tests.support import ROOT, free_port, start_server, stop_server, wait_until

BIN_AVAILABLE = shutil.which("initdb") is not None or any(
    Path(p).exists() for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")
)


def _run_stack(database: str, *flags: str) -> subprocess.CompletedProcess:
    """`python -m infra.stack run` on the running stack, printing the database's settings."""
    probe = (
        "import os, psycopg; c = psycopg.connect(os.environ['DATABASE_URL']);"
        "print('fsync', c.execute('SHOW fsync').fetchone()[0]);"
        "print('synchronous_commit', c.execute('SHOW synchronous_commit').fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.pop("AWS_ENDPOINT_URL", None)  # use the stack's own services, as make run does
    return subprocess.run(
        [
            *(sys.executable, "-m", "infra.stack", "run", "--database", database, *flags),
            *("--", sys.executable, "-c", probe),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )


@pytest.mark.skipif(not BIN_AVAILABLE, reason="needs the embedded stack's PostgreSQL binaries")
def test_make_runs_stack_is_durable_and_only_test_stacks_say_they_are_not() -> None:
    names = [f"gateway_durable_{uuid.uuid4().hex[:8]}", f"gateway_fast_{uuid.uuid4().hex[:8]}"]
    try:
        durable = _run_stack(names[0])
        fast = _run_stack(names[1], "--no-durability")
    finally:
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert "fsync on" in durable.stdout and "synchronous_commit on" in durable.stdout
    assert "durable: database" in durable.stderr
    assert "durability OFF" not in durable.stderr

    assert "fsync on" in fast.stdout  # per server: kept on for make run's sake
    assert "synchronous_commit off" in fast.stdout
    assert "durability OFF for database gateway_fast_" in fast.stderr

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("appendfsync") == {"appendfsync": "everysec"}


def _postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().splitlines()[0])


def _server_processes(data: Path) -> list[int]:
    """The postmaster, then its children."""
    postmaster = _postmaster_pid(data)
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


@pytest.fixture
def own_postgres() -> tuple[Path, int]:
    """A second embedded Postgres, started by the stack's own code (as make run's is)."""
    # Under /var/tmp: the postgres user must reach it (pytest's tmp dirs are root's only).
    data = Path("/var/tmp") / f"gateway-durability-{uuid.uuid4().hex[:12]}"
    data.mkdir(mode=0o700)
    port = free_port()
    try:
        stack.start_postgres(data=data, port=port)
        yield data, port
    finally:
        stack.stop_postgres(data)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.skipif(not BIN_AVAILABLE, reason="needs the embedded stack's PostgreSQL binaries")
def test_payments_answered_202_survive_a_postgres_sigkill(own_postgres, tmp_path) -> None:
    data, port = own_postgres
    base = f"postgresql://{stack.PG_USER}@{stack.HOST}:{port}"
    stack.create_databases(base, ("gateway",))
    url = f"{base}/gateway"
    from infra.migrate import migrate

    migrate(url)
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/9"  # nobody drains db 9
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "STAGE": "test"}
    created = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-merchant", "--name", "Durable"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    api_key = json.loads(created.stdout)["api_key"]
    server = start_server(tmp_path, {"DATABASE_URL": url, "REDIS_URL": redis_url})
    ids = []
    try:
        with server.client(api_key) as client:
            for n in range(20):
                response = client.post(
                    "/api/v1/payments",
                    json={
                        "order_id": f"durable_{uuid.uuid4().hex[:12]}_{n}",
                        "amount": 1000 + n,
                        "currency": "INR",
                        "method": "upi",
                    },
                )
                assert response.status_code == 202, response.text
                ids.append(response.json()["id"])
            # The crash: every Postgres process at once, right after the last 202 (each
            # child is a session leader of its own, so there is no group to signal).
            victims = _server_processes(data)
            for pid in victims:
                os.kill(pid, signal.SIGKILL)
        wait_until(lambda: all(_gone(pid) for pid in victims), timeout=30, step=0.05)
    finally:
        stop_server(server)
        redis.Redis.from_url(redis_url).flushdb()
    # A dead postmaster left unreaped (a zombie, where PID 1 does not reap) still
    # "exists" for Postgres' lock-file checks; every process is gone, so the files go.
    (data / "postmaster.pid").unlink(missing_ok=True)
    (data / f".s.PGSQL.{port}.lock").unlink(missing_ok=True)
    assert stack.start_postgres(data=data, port=port)  # crash recovery replays the WAL
    with psycopg.connect(url) as conn:
        found = {
            row[0] for row in conn.execute("SELECT id FROM payments WHERE id = ANY(%s)", (ids,))
        }
    assert found == set(ids), f"lost {len(set(ids) - found)} of {len(ids)} accepted payments"
