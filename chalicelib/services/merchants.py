"""Merchants and API keys: creation and authentication.

Keys are `sk_test_` plus 43 url-safe random characters, shown once and stored
only as their SHA-256 hash (they carry 256 bits of entropy, so a slow hash adds
nothing). Authenticated keys are cached in-process for a short time to save a
round trip per request.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from chalicelib import db, ids
from chalicelib.errors import AuthenticationError
from chalicelib.repository import merchants as merchant_repo

KEY_PREFIX = "sk_test_"
_CACHE_TTL_S = 30.0
_cache: dict[str, tuple[str, float]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class CreatedMerchant:
    merchant_id: str
    api_key: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: the merchant and the hash of the key used (never the key)."""

    merchant_id: str
    key_hash: str


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def create_merchant(conn: db.Connection, name: str) -> CreatedMerchant:
    """Create a merchant and its first API key (returned once, stored as a hash)."""
    merchant_id = ids.new_id(ids.MERCHANT)
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    merchant_repo.insert_merchant(conn, merchant_id, name)
    merchant_repo.insert_api_key(conn, hash_api_key(api_key), merchant_id, api_key[:12])
    return CreatedMerchant(merchant_id, api_key)


def authenticate(conn: db.Connection, api_key: str) -> Principal:
    """The merchant of an API key, or 401 `api_key_invalid`."""
    key_hash = hash_api_key(api_key)
    now = time.monotonic()
    cached = _cache.get(key_hash)
    if cached and cached[1] > now:
        return Principal(cached[0], key_hash)
    merchant_id = None
    if api_key.startswith(KEY_PREFIX) and len(api_key) <= 200:
        merchant_id = merchant_repo.find_merchant_id_by_key_hash(conn, key_hash)
    if merchant_id is None:
        raise AuthenticationError("Invalid API key provided.", code="api_key_invalid")
    with _cache_lock:
        _cache[key_hash] = (merchant_id, now + _CACHE_TTL_S)
    return Principal(merchant_id, key_hash)
