"""Operator keys: creation and authentication.

An operator key is `ok_test_` plus 43 url-safe random characters, shown once and
stored as its keyed hash, like a merchant key (`services.key_hashes`). It is a
different kind of key, in its own table: it opens the operator routes and no
merchant route, and a merchant key opens no operator route.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from chalicelib import db, ids
from chalicelib.clock import isoformat
from chalicelib.errors import AuthenticationError
from chalicelib.repository import operator_keys as operator_repo
from chalicelib.services import key_hashes
from chalicelib.services.merchants import StaleHash, hash_api_key

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


def find_operator(conn: db.Connection, api_key: str) -> tuple[str, str, StaleHash | None] | None:
    """(operator id, key hash, rehash to store or None) for a valid operator key, else
    None. The hash is the newest version's; a key found under an older version comes
    with the rehash (`rehash_key`)."""
    key_hash = hash_api_key(api_key)
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached and cached[1] > now:
        return cached[0], key_hash, None
    if not is_operator_key(api_key) or len(api_key) > 200:
        return None
    row = operator_repo.find_live_operator_by_key_hashes(conn, key_hashes.candidates(api_key))
    if row is None:
        return None
    with _cache_lock:
        _cache[key_hash] = (row["operator_id"], now + _CACHE_TTL_S)
    stale = None
    if row["key_hash"] != key_hash:
        stale = StaleHash(row["operator_id"], row["key_hash"], key_hash)
    return row["operator_id"], key_hash, stale


def require_operator(conn: db.Connection, api_key: str) -> tuple[str, str, StaleHash | None]:
    """(operator id, key hash, rehash or None) of a live operator key, or 401
    `api_key_invalid`."""
    found = find_operator(conn, api_key)
    if found is None:
        raise AuthenticationError("Invalid API key provided.", code="api_key_invalid")
    return found


def rehash_key(conn: db.Connection, stale: StaleHash) -> None:
    """Store an operator key's hash under the newest version (compare-and-set)."""
    operator_repo.set_operator_key_hash(conn, stale.key_id, stale.old, stale.new)


def revoke_operator_key(conn: db.Connection, operator_id: str) -> dict[str, Any]:
    """Revoke an operator's key (idempotent); every warm process refuses it within
    _CACHE_TTL_S. LookupError for an unknown operator."""
    row = operator_repo.revoke_operator_key(conn, operator_id)
    if row is None:
        raise LookupError(f"no such operator: {operator_id}")
    return _listed(row)


def list_operator_keys(conn: db.Connection) -> list[dict[str, Any]]:
    """Every operator key, oldest first: id, name, prefix, created, revoked (no hash)."""
    return [_listed(row) for row in operator_repo.list_operator_keys(conn)]


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "operator_id": row["operator_id"],
        "name": row["name"],
        "prefix": row["key_prefix"],
        "created_at": isoformat(row["created_at"]),
        "revoked_at": isoformat(row["revoked_at"]),
    }
