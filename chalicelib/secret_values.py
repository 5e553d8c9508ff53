"""Values kept in AWS Secrets Manager (the prod stage), and connection URLs in any of the
shapes a secret may hold them.

Two ways to read a secret, chosen by the environment:

- through the AWS Parameters and Secrets Lambda Extension, where the function has it
  (the template adds its layer and sets PARAMETERS_SECRETS_EXTENSION_HTTP_PORT): one
  HTTP GET to localhost, answered from the extension's cache or by its own
  GetSecretValue call. No boto3 at all: importing boto3 costs 0.2-0.4 s and building
  its Secrets Manager client 70-140 ms, most of a cold start. The extension serves only
  during an invocation (not the init, AWS documents), which is when secrets are read;
- otherwise through boto3, one Secrets Manager client per process.

Either way a value is read once per process (`chalicelib.settings` caches it).
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any
from urllib.parse import quote

EXTENSION_PORT = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
# The header carries the function's AWS_SESSION_TOKEN; its name is no secret.
TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"  # noqa: S105  # nosec B105
EXTENSION_TIMEOUT_S = 10.0  # the extension's own call to Secrets Manager included
MAX_ANSWER_BYTES = 1 << 20  # a secret holds at most 64 KiB; the answer is its JSON


class SecretReadError(RuntimeError):
    """The extension did not give the secret: says which secret and why, never a value."""


@functools.lru_cache(maxsize=4)
def _secrets_client(region: str, endpoint_url: str | None) -> Any:
    """One Secrets Manager client per process: building one costs 70-140 ms (its service
    model), and the first request reads up to four secrets."""
    import boto3  # lazy: boto3 is slow to import and only prod needs it

    return boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)


def forget_clients() -> None:
    """Drop the cached client (settings reset, tests)."""
    _secrets_client.cache_clear()


def extension_port() -> int | None:
    """The extension's port when this environment can use it, else None (boto3).

    Not under SnapStart (`AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`): a SnapStart
    function's credentials come from the container credentials endpoint, Lambda sets no
    `AWS_SESSION_TOKEN`, and the extension refuses a request without it (401 "Bad
    session token or header key", AWS's SnapStart troubleshooting). Those functions,
    and any environment without the token, read through boto3, which finds the
    credentials wherever Lambda put them.
    """
    value = os.environ.get(EXTENSION_PORT, "").strip()
    if not value:
        return None
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
        return None
    if not os.environ.get("AWS_SESSION_TOKEN"):
        return None
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 65536:
        raise SecretReadError(f"{EXTENSION_PORT} must be a port number, not {value!r}")
    return int(value)


def secret_string(secret_id: str, region: str, endpoint_url: str | None) -> str:
    port = extension_port()
    if port is not None:
        return _through_extension(secret_id, port)
    client = _secrets_client(region, endpoint_url)
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


def _through_extension(secret_id: str, port: int) -> str:
    """`GET /secretsmanager/get?secretId=...` on localhost: the GetSecretValue answer.

    Through the standard library's `http.client` (about 18 ms of imports at a cold start,
    measured; a parser of our own would save them, and a gateway keeps none)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=EXTENSION_TIMEOUT_S)
    try:
        connection.request(
            "GET",
            f"/secretsmanager/get?secretId={quote(secret_id, safe='')}",
            headers={TOKEN_HEADER: os.environ.get("AWS_SESSION_TOKEN", "")},
        )
        answer = connection.getresponse()
        body = answer.read(MAX_ANSWER_BYTES + 1)
    finally:
        connection.close()
    if len(body) > MAX_ANSWER_BYTES:
        raise SecretReadError(f"secret {secret_id}: the extension's answer is too long")
    if answer.status != 200:
        reason = body[:300].decode("utf-8", "replace").strip()  # the error, never a value
        raise SecretReadError(
            f"secret {secret_id}: the extension answered {answer.status}: {reason}"
        )
    parsed = json.loads(body)
    value = parsed.get("SecretString") if isinstance(parsed, dict) else None
    if not isinstance(value, str):
        raise SecretReadError(f"secret {secret_id} holds no SecretString")
    return value


def connection_url(raw: str, scheme: str, host: str | None, dbname: str | None) -> str:
    """A connection URL from a secret's text: the URL itself, a JSON object with a `url`
    field, or the JSON that RDS writes for managed credentials (username, password,
    host, ...). `host` and `dbname`, when given, replace the secret's (the database's
    proxy endpoint and name)."""
    if not raw.lstrip().startswith("{"):
        return raw.strip()
    value = json.loads(raw)
    if "url" in value:
        return str(value["url"])
    user = quote(str(value["username"]), safe="")
    password = quote(str(value.get("password", "")), safe="")
    port = value.get("port", 5432 if scheme == "postgresql" else 6379)
    host = host or value["host"]
    dbname = dbname or value.get("dbname", "")
    return f"{scheme}://{user}:{password}@{host}:{port}/{dbname}"
