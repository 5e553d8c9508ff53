"""Who is calling: the API key of `Authorization: Bearer <key>`, then its rate limit."""

from __future__ import annotations

from typing import Any

from chalicelib import db
from chalicelib.adapters import rate_limiter
from chalicelib.errors import AuthenticationError
from chalicelib.services import merchants
from chalicelib.services.merchants import Principal

MISSING = "No API key provided. Send it as 'Authorization: Bearer <api key>'."


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer <key>` header, or 401 `api_key_missing`."""
    scheme, _, api_key = (authorization or "").strip().partition(" ")
    api_key = api_key.strip()
    if scheme.lower() != "bearer" or not api_key:
        raise AuthenticationError(MISSING, code="api_key_missing")
    return api_key


def authenticate(request: Any, conn: db.Connection) -> Principal:
    """The merchant behind the request's key (401 otherwise), within its rate limit (429)."""
    principal = merchants.authenticate(conn, bearer_key(request.headers.get("authorization")))
    rate_limiter.check(principal.key_hash)
    return principal
