"""Operator keys: creation and authentication.

An operator key is `ok_test_` plus 43 url-safe random characters, shown once and
stored as its SHA-256 hash, like a merchant key (`services.merchants`). It is a
different kind of key, in its own table: it opens the operator routes and no
merchant route, and a merchant key opens no operator route.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from chalicelib import db, ids
from chalicelib.errors import AuthenticationError
from chalicelib.repository import operator_keys as operator_repo
from chalicelib.services.merchants import hash_api_key

KEY_PREFIX = "ok_test_"
#: As for merchant keys: a revoked operator key is refused everywhere within a second.
_CACHE_TTL_S = 1.0
_cache: dict[str, tuple[str, float]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class CreatedOperatorKey:
    operator_id: str
    operator_key: str


def create_operator_key(conn: db.Connection, name: str) -> CreatedOperatorKey:
    """A new operator and its key (returned once, stored as a hash)."""
    operator_id = ids.new_id(ids.OPERATOR)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    operator_repo.insert_operator_key(conn, hash_api_key(key), operator_id, name, key[:12])
    return CreatedOperatorKey(operator_id, key)


def is_operator_key(api_key: str) -> bool:
    return api_key.startswith(KEY_PREFIX)


def find_operator(conn: db.Connection, api_key: str) -> tuple[str, str] | None:
    """(operator id, key hash) for a valid operator key, else None."""
    key_hash = hash_api_key(api_key)
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached and cached[1] > now:
        return cached[0], key_hash
    if not is_operator_key(api_key) or len(api_key) > 200:
        return None
    operator_id = operator_repo.find_operator_id_by_key_hash(conn, key_hash)
    if operator_id is None:
        return None
    with _cache_lock:
        _cache[key_hash] = (operator_id, now + _CACHE_TTL_S)
    return operator_id, key_hash


def require_operator(conn: db.Connection, api_key: str) -> tuple[str, str]:
    """(operator id, key hash) of a live operator key, or 401 `api_key_invalid`."""
    found = find_operator(conn, api_key)
    if found is None:
        raise AuthenticationError("Invalid API key provided.", code="api_key_invalid")
    return found
