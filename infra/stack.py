"""Bring up Postgres, Redis and the AWS emulator for `make run` and `make test`.

Three ways, in order (DESIGN.md):
1. DATABASE_URL, REDIS_URL and AWS_ENDPOINT_URL set and reachable: use them.
2. A Docker engine answers: `docker compose up` the services of docker-compose.yml.
3. Otherwise start local binaries under `.stack/` (git-ignored): PostgreSQL with
   initdb/pg_ctl (as the `postgres` user when root), redis-server (installed with
   apt-get when missing and root) and moto's server as the stand-in for LocalStack.

`python -m infra.stack run [--database NAME] [--redis-db N] -- CMD...` brings the
stack up, migrates, runs CMD with the URLs in its environment, forwards SIGINT and
SIGTERM to it, and afterwards stops only the services this call started.
`up` and `down` start and stop the local services for a development session.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from infra import stack_env

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
    from infra.durability import REDIS_DURABLE_ARGS

    if port_open(HOST, REDIS_PORT):
        return False
    server = _redis_server()
    data = STACK_DIR / "redis"
    data.mkdir(parents=True, exist_ok=True)
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
    return True


def stop_redis() -> None:
    _kill_pidfile(STACK_DIR / "redis" / "redis.pid", "Redis")


# --------------------------------------------------------------------------- aws emulator
def start_aws_emulator() -> bool:
    if port_open(HOST, AWS_PORT):
        return False
    data = STACK_DIR / "moto"
    data.mkdir(parents=True, exist_ok=True)
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.exists():
        raise SystemExit("[stack] moto_server is missing from the virtualenv (make venv)")
    log(f"starting the AWS emulator (moto) on {HOST}:{AWS_PORT}")
    with open(data / "moto.log", "ab") as out:
        proc = subprocess.Popen(
            [str(moto), "-H", HOST, "-p", str(AWS_PORT)],
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
    if port_open(HOST, ACQUIRER_PORT):
        return False
    data = STACK_DIR / "acquirer"
    data.mkdir(parents=True, exist_ok=True)
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


def create_reconciliation_bucket(env: dict[str, str]) -> None:
    """The S3 bucket reconciliation reports go to (RECONCILIATION_BUCKET)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    bucket = env.get("RECONCILIATION_BUCKET", "gateway-reconciliation")
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass


def _kill_pidfile(pidfile: Path, what: str) -> None:
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    log(f"stopping {what}")
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pidfile.unlink(missing_ok=True)


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


IDEMPOTENCY_HMAC_SECRET = "gateway/local/idempotency-hmac-key"  # noqa: S105 - a secret's name
WEBHOOK_KEY_ALIAS = "alias/gateway-local-webhook-secrets"


def _local_hmac_key(existing: str | None) -> str:
    """This stack's idempotency HMAC key, generated once and kept under .stack/ (0600), so
    that fingerprints stay comparable across restarts of the emulator. A key the
    emulator already holds is kept (the Docker path has no .stack/ of its own)."""
    import secrets

    path = STACK_DIR / "idempotency-hmac.key"
    if path.exists():
        return path.read_text().strip()
    key = existing or secrets.token_urlsafe(48)
    STACK_DIR.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def bootstrap_emulator(env: dict[str, str]) -> dict[str, str]:
    """Create what the app expects in the AWS emulator: the connection-URL secrets, the
    idempotency HMAC key's secret and the webhook secrets' KMS key. Returns the settings
    that name them (IDEMPOTENCY_HMAC_SECRET_ID, WEBHOOK_SECRETS_KMS_KEY_ID)."""
    import boto3

    session = boto3.session.Session(
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    client = session.client("secretsmanager", endpoint_url=env["AWS_ENDPOINT_URL"])
    try:
        existing = client.get_secret_value(SecretId=IDEMPOTENCY_HMAC_SECRET)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        existing = None
    for name, value in (
        ("gateway/local/database-url", env["DATABASE_URL"]),
        ("gateway/local/redis-url", env["REDIS_URL"]),
        (IDEMPOTENCY_HMAC_SECRET, _local_hmac_key(existing)),
    ):
        try:
            client.create_secret(Name=name, SecretString=value)
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=value)
    create_reconciliation_bucket(env)
    kms = session.client("kms", endpoint_url=env["AWS_ENDPOINT_URL"])
    try:
        key_id = kms.describe_key(KeyId=WEBHOOK_KEY_ALIAS)["KeyMetadata"]["KeyId"]
    except kms.exceptions.NotFoundException:
        # The emulator keeps keys in memory: a restarted emulator gets a new key, and
        # secrets sealed under the old one are unreadable (docs/webhooks.md: rotate).
        key_id = kms.create_key(Description="webhook signing secrets (local stack)")["KeyMetadata"][
            "KeyId"
        ]
        try:
            kms.create_alias(AliasName=WEBHOOK_KEY_ALIAS, TargetKeyId=key_id)
        except kms.exceptions.AlreadyExistsException:  # another stack start won the race
            key_id = kms.describe_key(KeyId=WEBHOOK_KEY_ALIAS)["KeyMetadata"]["KeyId"]
    return {
        "IDEMPOTENCY_HMAC_SECRET_ID": IDEMPOTENCY_HMAC_SECRET,
        "WEBHOOK_SECRETS_KMS_KEY_ID": key_id,
    }


def run_with_stack(database: str, redis_db: int, command: list[str], durable: bool = True) -> int:
    """Bring the stack up, migrate, run `command`, then stop what was started here."""
    from infra import durability

    stack = up()
    child: subprocess.Popen | None = None
    settings_file: Path | None = None
    try:
        if stack.mode != "given":
            create_databases(stack.database_base_url, (database,))
        env = {**os.environ, **stack.env(database, redis_db)}
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
        child = subprocess.Popen(command, env=env)

        def forward(signum: int, _frame: object) -> None:
            if child is not None and child.poll() is None:
                child.send_signal(signum)

        signal.signal(signal.SIGINT, forward)
        signal.signal(signal.SIGTERM, forward)
        return child.wait()
    finally:
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
    return run_with_stack(args.database, args.redis_db, command, durable=not args.no_durability)


if __name__ == "__main__":
    sys.exit(main())
