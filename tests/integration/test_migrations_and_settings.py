"""Migrations apply once each, also twice and from two processes at once; the prod
stage reads its connection URLs from Secrets Manager (the emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg
import pytest

from chalicelib import settings
from infra.migrate import migrate, migration_files
from tests.support import ROOT


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database of its own, dropped afterwards."""
    base = urlsplit(os.environ["DATABASE_URL"])
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin = urlunsplit(base._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(base._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def applied(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]


def test_migrations_apply_in_order_once(scratch_database: str) -> None:
    expected = [p.stem for p in migration_files()]
    assert migrate(scratch_database) == expected
    assert migrate(scratch_database) == []  # the second run applies nothing
    assert applied(scratch_database) == expected


def test_two_processes_migrating_at_once(scratch_database: str) -> None:
    command = [sys.executable, "-m", "infra.migrate", "--database-url", scratch_database]
    runners = [
        subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outputs = [json.loads(r.communicate(timeout=120)[0]) for r in runners]
    assert all(r.returncode == 0 for r in runners)
    applied_by = sorted(len(o["migrations_applied"]) for o in outputs)
    assert applied_by == [0, len(migration_files())]  # one did the work, once
    assert applied(scratch_database) == [p.stem for p in migration_files()]


def test_migrate_without_a_url_says_so(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Not `make run`'s stack either: in a checkout where it ran, its .stack/gateway.env
    # would fill the URL in (infra/stack_env.py), and this test migrated that database.
    env["GATEWAY_STACK_ENV"] = str(tmp_path / "no-stack.env")
    result = subprocess.run(
        [sys.executable, "-m", "infra.migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr


@pytest.fixture
def secrets_client():
    return boto3.client(
        "secretsmanager",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )


def test_prod_reads_connection_urls_from_secrets_manager(
    secrets_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prod path against the emulator: the URLs come from secrets, by id."""
    suffix = uuid.uuid4().hex[:8]
    db_secret, redis_secret = f"gateway/test-{suffix}/db", f"gateway/test-{suffix}/redis"
    database_url, redis_url = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    secrets_client.create_secret(Name=db_secret, SecretString=json.dumps({"url": database_url}))
    parts = urlsplit(database_url)
    rds_secret = f"gateway/test-{suffix}/rds"
    secrets_client.create_secret(
        Name=rds_secret,
        SecretString=json.dumps(
            {
                "username": parts.username,
                "password": "p@ss/word",
                "host": parts.hostname,
                "port": parts.port,
                "dbname": parts.path.lstrip("/"),
            }
        ),
    )
    secrets_client.create_secret(Name=redis_secret, SecretString=redis_url)
    env = {
        "STAGE": "prod",
        "DATABASE_SECRET_ID": db_secret,
        "REDIS_SECRET_ID": redis_secret,
    }
    script = (
        "from chalicelib import settings, db\n"
        "from chalicelib.adapters.redis_client import get_redis\n"
        "with db.connection() as conn: conn.execute('SELECT 1')\n"
        "assert get_redis().ping()\n"
        f"print(settings.database_url() == {database_url!r},"
        f" settings.redis_url() == {redis_url!r})\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]

    # RDS-style JSON credentials are assembled into a URL, special characters quoted.
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("DATABASE_SECRET_ID", rds_secret)
    settings.reset_settings()
    try:
        url = settings.get_settings().resolved_database_url()
    finally:
        monkeypatch.undo()
        settings.reset_settings()
    assert url == (
        f"postgresql://{parts.username}:p%40ss%2Fword@{parts.hostname}:"
        f"{parts.port}/{parts.path.lstrip('/')}"
    )


def test_missing_connection_settings_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("DATABASE_SECRET_ID", raising=False)
    settings.reset_settings()
    try:
        with pytest.raises(RuntimeError, match="DATABASE_URL or DATABASE_SECRET_ID"):
            settings.get_settings().resolved_database_url()
    finally:
        monkeypatch.undo()
        settings.reset_settings()


def test_chalice_stages_exist_and_prod_holds_secret_ids_only() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert {"local", "test", "prod"} <= set(config["stages"])
    prod_env = config["stages"]["prod"]["environment_variables"]
    assert "DATABASE_URL" not in prod_env and "REDIS_URL" not in prod_env
    # The secret ids are the stack's own resources: infra/aws sets them in the template
    # (tests/packaging/test_stack.py), so the stage must not name fixed secrets.
    assert "DATABASE_SECRET_ID" not in prod_env and "REDIS_SECRET_ID" not in prod_env
