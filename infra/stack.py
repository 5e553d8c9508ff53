"""Bring up Postgres, Redis and the AWS emulator for `make run` and `make test`.

Three ways, in order (docs/architecture.md):
1. DATABASE_URL, REDIS_URL and AWS_ENDPOINT_URL set and reachable: use them.
2. A Docker engine answers: `docker compose up` the services of docker-compose.yml.
3. Otherwise start local binaries under `.stack/` (git-ignored): PostgreSQL with
   initdb/pg_ctl (as the `postgres` user when root), redis-server (installed with
   apt-get when missing and root) and moto's server as the stand-in for LocalStack.

`python -m infra.stack run [--database NAME] [--redis-db N] -- CMD...` brings the
stack up, migrates, runs CMD with the URLs in its environment, forwards SIGINT and
SIGTERM to it, restarts any local service it started that dies meanwhile
(`stack_supervisor.py`; their names in GATEWAY_SUPERVISED), and afterwards stops only
the services this call started.
`up` and `down` start and stop the local services for a development session.

This module chooses the mode and runs commands; the parts it starts are in
`stack_postgres.py`, `stack_services.py` (Redis, moto, the acquirer),
`stack_emulator.py` (what the app expects in the emulator) and `stack_base.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from infra import stack_env
from infra.stack_base import (
    AWS_PORT,
    DATABASES,
    HOST,
    PG_PORT,
    PG_USER,
    REDIS_PORT,
    ROOT,
    STACK_DIR,
    Stack,
    _kill_pidfile,  # noqa: F401
    log,
    port_open,
    run,
    url_reachable,
)
from infra.stack_emulator import (
    _local_hmac_key,  # noqa: F401
    bootstrap_emulator,
)
from infra.stack_owner import check_ports
from infra.stack_postgres import (  # noqa: F401
    _as_pg_user,
    _pg_bindir,
    _pg_data_dir,
    create_databases,
    drop_database,
    start_postgres,
    stop_postgres,
)
from infra.stack_services import (  # noqa: F401
    _given_acquirer,
    _redis_server,
    start_acquirer,
    start_aws_emulator,
    start_redis,
    stop_acquirer,
    stop_aws_emulator,
    stop_redis,
)
from infra.stack_supervisor import ServiceSupervisor


# --------------------------------------------------------------------------- modes
def _docker_engine() -> bool:
    """A Docker engine answers and `docker compose` (v2, for `up --wait`) is installed."""
    if os.environ.get("GATEWAY_NO_DOCKER") or not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=20)
    if probe.returncode != 0:
        return False
    compose = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, check=False, timeout=20
    )
    if compose.returncode != 0:
        log("a Docker engine answers but `docker compose` is missing: using local binaries")
        return False
    return True


def up() -> Stack:
    """Bring the services up (or find them) and return their URLs."""
    given = [os.environ.get(k) for k in ("DATABASE_URL", "REDIS_URL", "AWS_ENDPOINT_URL")]
    if all(given) and all(url_reachable(u) for u in given):  # type: ignore[arg-type]
        log("using the services given by DATABASE_URL, REDIS_URL and AWS_ENDPOINT_URL")
        db, rd, aws = given
        stack = Stack(db.rsplit("/", 1)[0], rd.rsplit("/", 1)[0], aws, mode="given")  # type: ignore[union-attr]
        _given_acquirer(stack)
        return stack

    pg_base = f"postgresql://{PG_USER}@{HOST}:{PG_PORT}"
    stack = Stack(pg_base, f"redis://{HOST}:{REDIS_PORT}", f"http://{HOST}:{AWS_PORT}")
    # One stack per checkout: a service on our ports that this checkout did not start
    # is never used (infra/stack_owner.py).
    check_ports(("postgres", "redis", "aws"))
    check_ports(() if os.environ.get("ACQUIRER_URL") else ("acquirer",))
    # (The acquirer is not part of this check: when the three answer, the local path
    # below starts it if it is not running, as it does the others.)
    answering = all(port_open(HOST, port) for port in (PG_PORT, REDIS_PORT, AWS_PORT))
    if not answering and _docker_engine():
        # (When all three ports already answer, e.g. an earlier `make stack-up` or
        # `docker compose up`, they are used as they are, like the local path does:
        # `docker compose up` would fail to publish ports that are taken.)
        log("Docker engine found: docker compose up postgres redis localstack acquirer")
        run(
            [
                "docker",
                "compose",
                "-f",
                str(ROOT / "docker-compose.yml"),
                "up",
                "-d",
                "--wait",
                "postgres",
                "redis",
                "localstack",
                "acquirer",
            ]
        )
        stack.mode = "docker"
        # The postgres image makes gateway_test only on an empty volume
        # (infra/docker/postgres-init.sql); an older volume gets it here.
        create_databases(pg_base)
        return stack

    STACK_DIR.mkdir(exist_ok=True)
    if start_postgres():
        stack.started.append("postgres")
    if start_redis():
        stack.started.append("redis")
    if start_aws_emulator():
        stack.started.append("aws")
    if start_acquirer():
        stack.started.append("acquirer")
    create_databases(pg_base)
    return stack


def down(services: list[str] | None = None) -> None:
    """Stop local services (all of them, or the named ones)."""
    services = services or ["acquirer", "aws", "redis", "postgres"]
    stoppers = {
        "acquirer": stop_acquirer,
        "aws": stop_aws_emulator,
        "redis": stop_redis,
        "postgres": stop_postgres,
    }
    for name in services:
        stoppers[name]()


def run_with_stack(
    database: str, redis_db: int, command: list[str], durable: bool = True, fresh: bool = False
) -> int:
    """Bring the stack up, migrate, run `command`, then stop what was started here.

    `fresh`: start from an empty database and Redis db (the test suite's, so that no
    run sees what an earlier run left)."""
    from infra import durability

    stack = up()
    child: subprocess.Popen | None = None
    settings_file: Path | None = None
    supervisor: ServiceSupervisor | None = None
    try:
        if fresh:
            drop_database(stack.database_base_url, database)
        if fresh or stack.mode != "given":
            create_databases(stack.database_base_url, (database,))
        env = {**os.environ, **stack.env(database, redis_db)}
        if fresh:
            import redis

            redis.Redis.from_url(env["REDIS_URL"]).flushdb()
        durability.apply(
            mode=stack.mode,
            database_base_url=stack.database_base_url,
            database=database,
            redis_url=env["REDIS_URL"],
            durable=durable,
            log=log,
        )
        from infra.migrate import migrate

        applied = migrate(env["DATABASE_URL"])
        if applied:
            log(f"migrations applied to {database}: {', '.join(applied)}")
        env.update(bootstrap_emulator(env))
        settings_file = stack_env.write(database, env)
        if stack.mode == "local" and stack.started:
            # What this call started, it keeps alive while the command runs.
            supervisor = ServiceSupervisor(stack.started)
            supervisor.start()
            env["GATEWAY_SUPERVISED"] = ",".join(stack.started)
        child = subprocess.Popen(command, env=env)

        def forward(signum: int, _frame: object) -> None:
            if child is not None and child.poll() is None:
                child.send_signal(signum)

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        return child.wait()
    finally:
        if supervisor is not None:
            supervisor.stop()  # before stopping the services it would start again
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait(timeout=30)
        if stack.started:
            down(list(reversed(stack.started)))
            if settings_file is not None:
                settings_file.unlink(missing_ok=True)  # its services are gone


def _database_name(value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.isascii() or len(value) > 63:
        raise argparse.ArgumentTypeError("database names are letters, digits and _")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local service stack for the gateway")
    sub = parser.add_subparsers(dest="action", required=True)
    run_p = sub.add_parser("run", help="run a command with the stack up")
    run_p.add_argument("--database", default="gateway", type=_database_name)
    run_p.add_argument("--redis-db", type=int, default=0)
    run_p.add_argument(
        "--no-durability",
        action="store_true",
        help="synchronous_commit off for this database (test and bench stacks only)",
    )
    run_p.add_argument(
        "--fresh",
        action="store_true",
        help="drop the database and flush the Redis db first (the test suite's stack)",
    )
    run_p.add_argument("command", nargs=argparse.REMAINDER)
    up_p = sub.add_parser("up", help="start the local services and leave them running")
    up_p.add_argument("--database", default="gateway", choices=DATABASES)
    up_p.add_argument("--redis-db", type=int, default=0)
    sub.add_parser("down", help="stop the local services")
    sub.add_parser("bootstrap", help="create the emulator's secrets and keys (Docker's migrate)")
    args = parser.parse_args(argv)

    if args.action == "bootstrap":
        print(json.dumps(bootstrap_emulator(dict(os.environ))))
        return 0
    if args.action == "down":
        down()
        for path in stack_env.remove_all():  # their services are gone
            log(f"removed {path}")
        return 0
    if args.action == "up":
        stack = up()
        env = stack.env(args.database, args.redis_db)
        from infra.migrate import migrate

        for name in DATABASES:
            migrate(f"{stack.database_base_url}/{name}")
        named = bootstrap_emulator(env)
        env.update(named)
        for name in DATABASES:
            stack_env.write(name, {**os.environ, **stack.env(name, args.redis_db), **named})
        print(json.dumps(env))
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command after --")
    return run_with_stack(
        args.database, args.redis_db, command, durable=not args.no_durability, fresh=args.fresh
    )


if __name__ == "__main__":
    sys.exit(main())
