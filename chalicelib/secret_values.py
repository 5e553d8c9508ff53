"""Values kept in AWS Secrets Manager (the prod stage): read once per process through one
client, and connection URLs in any of the shapes a secret may hold them."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import quote


@functools.lru_cache(maxsize=4)
def _secrets_client(region: str, endpoint_url: str | None) -> Any:
    """One Secrets Manager client per process: building one costs 70-140 ms (its service
    model), and the first request reads up to four secrets."""
    import boto3  # lazy: boto3 is slow to import and only prod needs it

    return boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)


def forget_clients() -> None:
    """Drop the cached client (settings reset, tests)."""
    _secrets_client.cache_clear()


def secret_string(secret_id: str, region: str, endpoint_url: str | None) -> str:
    client = _secrets_client(region, endpoint_url)
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


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
