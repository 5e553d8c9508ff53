"""Prod's secrets: read through one Secrets Manager client, and boto3 in the snapshot.

A restored or cold environment's first request reads up to four secrets (the database,
Redis and the two HMAC keys). Building a boto3 client loads its service model (70-140 ms
here), and importing boto3 costs 0.2-0.4 s: one client serves every read, and the
SnapStart before-snapshot hook imports boto3 where the settings name secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from chalicelib import settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "k" * 48
SECRETS = {
    "db": json.dumps({"username": "u", "password": "p", "host": "h", "port": 5432}),
    "redis": "redis://cache.example:6379/0",
    "idem": KEY,
    "apikey": KEY,
}


class FakeClient:
    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": SECRETS[SecretId]}


@pytest.fixture
def prod_secrets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    built: list[tuple[Any, ...]] = []

    def client(*args: Any, **kwargs: Any) -> FakeClient:
        built.append((args, tuple(sorted(kwargs.items()))))
        return FakeClient()

    monkeypatch.setitem(sys.modules, "boto3", types.SimpleNamespace(client=client))
    for name in ("DATABASE_URL", "REDIS_URL", "IDEMPOTENCY_HMAC_KEY", "API_KEY_HMAC_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_SECRET_ID", "db")
    monkeypatch.setenv("REDIS_SECRET_ID", "redis")
    monkeypatch.setenv("IDEMPOTENCY_HMAC_SECRET_ID", "idem")
    monkeypatch.setenv("API_KEY_HMAC_SECRET_ID", "apikey")
    settings.reset_settings()
    yield built
    settings.reset_settings()


def test_the_four_secrets_are_read_through_one_client(prod_secrets: list[Any]) -> None:
    assert settings.database_url() == "postgresql://u:p@h:5432/"
    assert settings.redis_url() == SECRETS["redis"]
    assert settings.idempotency_keyring() is not None
    assert settings.api_key_keyring() is not None
    assert len(prod_secrets) == 1, prod_secrets


PRELOAD = "import sys; from chalicelib import snapstart; snapstart.preload_modules(); "
PRELOAD += "print('boto3' in sys.modules)"


def _preloads_boto3(env: dict[str, str]) -> bool:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_SECRET_ID")}
    out = subprocess.run(
        [sys.executable, "-c", PRELOAD],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1] == "True"


def test_the_snapshot_holds_boto3_where_secrets_are_read() -> None:
    assert _preloads_boto3({"DATABASE_SECRET_ID": "arn:aws:secretsmanager:stand-in"})
    assert not _preloads_boto3({})
