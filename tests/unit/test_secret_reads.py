"""Prod's secrets: through the Parameters and Secrets extension where the function has
it, else through one Secrets Manager client, and boto3 in the snapshot only then.

A restored or cold environment's first request reads up to four secrets (the database,
Redis and the two HMAC keys). Building a boto3 client loads its service model (70-140 ms
here), and importing boto3 costs 0.2-0.4 s: with the extension (its port in
PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) boto3 is never imported; without it one client
serves every read, and the SnapStart before-snapshot hook imports boto3 where the
settings name secrets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib import secret_values, settings

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
def prod_secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
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
    monkeypatch.delenv(secret_values.EXTENSION_PORT, raising=False)
    settings.reset_settings()
    yield built
    settings.reset_settings()


def test_the_four_secrets_are_read_through_one_client(prod_secrets: list[Any]) -> None:
    assert settings.database_url() == "postgresql://u:p@h:5432/"
    assert settings.redis_url() == SECRETS["redis"]
    assert settings.idempotency_keyring() is not None
    assert settings.api_key_keyring() is not None
    assert len(prod_secrets) == 1, prod_secrets


class FakeExtension(BaseHTTPRequestHandler):
    """The extension's one endpoint, answering from SECRETS; records (path, token)."""

    seen: list[tuple[str, str | None]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        FakeExtension.seen.append((self.path, self.headers.get(secret_values.TOKEN_HEADER)))
        secret_id = parse_qs(url.query).get("secretId", [""])[0]
        if url.path == "/secretsmanager/get" and secret_id in SECRETS:
            status, body = 200, {"Name": secret_id, "SecretString": SECRETS[secret_id]}
        else:
            status, body = 400, {"__type": "ResourceNotFoundException", "message": "gone"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def extension(
    prod_secrets: list[Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[tuple[str, str | None]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeExtension)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(secret_values.EXTENSION_PORT, str(server.server_address[1]))
    monkeypatch.setenv("AWS_SESSION_TOKEN", "the-session-token")
    FakeExtension.seen = []
    yield FakeExtension.seen
    server.shutdown()
    server.server_close()


def test_with_the_extension_no_boto3_client_is_built(
    extension: list[Any], prod_secrets: list[Any]
) -> None:
    assert settings.database_url() == "postgresql://u:p@h:5432/"
    assert settings.redis_url() == SECRETS["redis"]
    assert settings.idempotency_keyring().keys[1] == KEY.encode()
    assert settings.api_key_keyring() is not None
    assert prod_secrets == []  # boto3.client never called
    assert [path for path, _ in extension] == [
        f"/secretsmanager/get?secretId={name}" for name in ("db", "redis", "idem", "apikey")
    ]
    assert {token for _, token in extension} == {"the-session-token"}


def test_an_extension_error_names_the_secret_and_the_answer(
    extension: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_SECRET_ID", "arn:aws:secretsmanager:us-east-1:1:secret:gone/x")
    settings.reset_settings()
    with pytest.raises(secret_values.SecretReadError) as caught:
        settings.redis_url()
    message = str(caught.value)
    assert "arn:aws:secretsmanager:us-east-1:1:secret:gone/x" in message
    assert "400" in message and "ResourceNotFoundException" in message
    # the id travels URL-encoded
    assert extension[-1][0].endswith(
        "secretId=arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A1%3Asecret%3Agone%2Fx"
    )


@pytest.mark.parametrize(
    "environment",
    [{"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}, {"AWS_SESSION_TOKEN": ""}],
    ids=["snapstart", "no-session-token"],
)
def test_without_a_session_token_the_extension_is_not_asked(
    extension: list[Any],
    prod_secrets: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
) -> None:
    """A SnapStart function has the layer but no AWS_SESSION_TOKEN (its credentials come
    from the container credentials endpoint), and the extension answers 401 to a request
    without one: its secrets are read through boto3, never with an empty token."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings.reset_settings()
    assert settings.redis_url() == SECRETS["redis"]
    assert extension == []
    assert len(prod_secrets) == 1  # one boto3 client


@pytest.mark.parametrize("port", ["x", "0", "70000", "27 73", "2773\u00b2"])
def test_a_bad_extension_port_is_named(
    extension: list[Any], monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv(secret_values.EXTENSION_PORT, port)
    settings.reset_settings()
    with pytest.raises(secret_values.SecretReadError) as caught:
        settings.redis_url()
    assert secret_values.EXTENSION_PORT in str(caught.value)


PRELOAD = "import sys; from chalicelib import snapstart; snapstart.preload_modules(); "
PRELOAD += "print('boto3' in sys.modules)"


def _preloads_boto3(env: dict[str, str]) -> bool:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_SECRET_ID") and k != secret_values.EXTENSION_PORT
    }
    out = subprocess.run(
        [sys.executable, "-c", PRELOAD],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1] == "True"


def test_the_snapshot_holds_boto3_where_secrets_are_read_through_it() -> None:
    assert _preloads_boto3({"DATABASE_SECRET_ID": "arn:aws:secretsmanager:stand-in"})
    assert not _preloads_boto3({})
    # The hook runs only under SnapStart, where the extension is not asked (no session
    # token): boto3 reads the secrets, so it is in the snapshot, layer or not.
    snapstart = {
        secret_values.EXTENSION_PORT: "2773",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start",
    }
    assert _preloads_boto3({"DATABASE_SECRET_ID": "arn:aws:secretsmanager:x", **snapstart})
