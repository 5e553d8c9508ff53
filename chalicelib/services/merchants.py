"""Merchants and API keys: creation, rotation, revocation and authentication.

Keys are `sk_test_` plus 43 url-safe random characters, shown once and stored only
as a keyed hash (`hash_api_key`, an HMAC under the server's key: no table holds an
unkeyed hash of a key; with 256 bits of entropy a slow hash would add nothing). A
merchant holds at most two live keys, so that it can rotate.

Authentication caches a key for at most `AUTH_CACHE_TTL_S` (1 s) per process: a
revoked key stops working in every warm process within a second, for the price of
one indexed lookup per key per second per process. Keys that failed are remembered
(`_NEGATIVE_TTL_S`): a client retrying a wrong or revoked key costs no query either.
`last_used_at` is written at most once a minute per key.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from chalicelib import db, ids
from chalicelib.clock import isoformat, utcnow
from chalicelib.errors import AuthenticationError
from chalicelib.repository import merchants as merchant_repo
from chalicelib.services import key_hashes

KEY_PREFIX = "sk_test_"
MAX_LIVE_KEYS = 2
AUTH_CACHE_TTL_S = 1.0
LAST_USED_EVERY_S = 60.0
_NEGATIVE_TTL_S = 60.0
_NEGATIVE_MAX = 10_000

_lock = threading.Lock()
_cache: dict[str, tuple[str, str, float]] = {}  # key hash -> merchant, key id, valid until
_negative: OrderedDict[str, float] = OrderedDict()  # key hash -> remembered until
_touched: dict[str, float] = {}  # key id -> when last_used_at was last written


class TooManyKeysError(ValueError):
    """The merchant already holds MAX_LIVE_KEYS live keys."""


@dataclass(frozen=True)
class CreatedMerchant:
    merchant_id: str
    api_key: str


@dataclass(frozen=True)
class CreatedKey:
    key_id: str
    merchant_id: str
    api_key: str
    prefix: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: the merchant and the id of the key used (never the key)."""

    merchant_id: str
    key_id: str


@dataclass(frozen=True)
class StaleHash:
    """A key found under an older keyring version: rehash it (`rehash_key`)."""

    key_id: str
    old: str
    new: str


def hash_api_key(api_key: str) -> str:
    """The stored form of an API (or operator) key: an HMAC under the newest version of
    the API-key keyring (services/key_hashes.py)."""
    return key_hashes.hash_key(api_key)


def rehash_unkeyed(conn: db.Connection) -> int:
    """Replace every key hash stored before keyed hashing (a bare SHA-256) by its keyed
    form; the key itself is not needed. Returns how many. `workers.admin rehash-api-keys`."""
    rows = merchant_repo.list_unkeyed_key_hashes(conn)
    for row in rows:
        new = key_hashes.from_digest(bytes.fromhex(row["key_hash"]))
        merchant_repo.set_key_hash(conn, row["id"], row["key_hash"], new)
    return len(rows)


def rehash_key(conn: db.Connection, stale: StaleHash) -> None:
    """Store a key's hash under the newest version (compare-and-set on the old hash)."""
    merchant_repo.set_key_hash(conn, stale.key_id, stale.old, stale.new)


def _insert_key(conn: db.Connection, merchant_id: str) -> CreatedKey:
    key_id = ids.new_id(ids.API_KEY)
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    prefix = api_key[:12]
    merchant_repo.insert_api_key(conn, key_id, hash_api_key(api_key), merchant_id, prefix)
    return CreatedKey(key_id, merchant_id, api_key, prefix)


def create_merchant(conn: db.Connection, name: str) -> CreatedMerchant:
    """Create a merchant and its first API key (returned once, stored as a hash)."""
    merchant_id = ids.new_id(ids.MERCHANT)
    merchant_repo.insert_merchant(conn, merchant_id, name)
    return CreatedMerchant(merchant_id, _insert_key(conn, merchant_id).api_key)


def create_key(conn: db.Connection, merchant_id: str) -> CreatedKey:
    """A new key for the merchant (for rotation); at most MAX_LIVE_KEYS live at once.

    The merchant's row is locked first, so two concurrent creations cannot both pass
    the count. Raises LookupError for an unknown merchant, TooManyKeysError at the cap.
    """
    if not merchant_repo.lock_merchant(conn, merchant_id):
        raise LookupError(f"no such merchant: {merchant_id}")
    if merchant_repo.count_live_keys_for_merchant(conn, merchant_id) >= MAX_LIVE_KEYS:
        raise TooManyKeysError(
            f"{merchant_id} already has {MAX_LIVE_KEYS} live keys: revoke one first"
        )
    return _insert_key(conn, merchant_id)


def list_keys(conn: db.Connection, merchant_id: str) -> list[dict[str, Any]]:
    """Every key of the merchant, oldest first: id, prefix, created, last used, revoked."""
    return [
        {
            "key_id": row["id"],
            "prefix": row["key_prefix"],
            "created_at": _iso(row["created_at"]),
            "last_used_at": _iso(row["last_used_at"]),
            "revoked_at": _iso(row["revoked_at"]),
        }
        for row in merchant_repo.list_keys_for_merchant(conn, merchant_id)
    ]


def revoke_key(conn: db.Connection, key_id: str) -> dict[str, Any]:
    """Revoke a key (idempotent); every warm process refuses it within AUTH_CACHE_TTL_S."""
    row = merchant_repo.revoke_key(conn, key_id)
    if row is None:
        raise LookupError(f"no such key: {key_id}")
    return {
        "key_id": row["id"],
        "merchant_id": row["merchant_id"],
        "prefix": row["key_prefix"],
        "revoked_at": _iso(row["revoked_at"]),
    }


def _iso(value: Any) -> str | None:
    return isoformat(value)


def cached_principal(api_key: str) -> Principal | None:
    """The principal of a key seen valid less than AUTH_CACHE_TTL_S ago, without a query."""
    hit = _cache.get(hash_api_key(api_key))
    if hit is not None and hit[2] > time.monotonic():
        return Principal(hit[0], hit[1])
    return None


def known_invalid(api_key: str) -> bool:
    """Whether this key failed recently (or cannot be a key at all): no query needed."""
    if not api_key.startswith(KEY_PREFIX) or len(api_key) > 200:
        return True
    until = _negative.get(hash_api_key(api_key))
    return until is not None and until > time.monotonic()


def authenticate(conn: db.Connection, api_key: str) -> Principal:
    """The merchant of an API key, or 401 `api_key_invalid` (see `find_key`)."""
    return find_key(conn, api_key)[0]


def find_key(conn: db.Connection, api_key: str) -> tuple[Principal, StaleHash | None]:
    """The merchant of an API key and, when its hash was made under an older keyring
    version, the rehash to store; 401 `api_key_invalid` for no live key.

    The key is always looked up (cache, then database) before anything else: failures
    are counted by the caller afterwards, so that no one else's failures can refuse it.
    """
    cached = cached_principal(api_key)
    if cached is not None:
        return cached, None
    key_hash = hash_api_key(api_key)
    row = None
    if not known_invalid(api_key):
        row = merchant_repo.find_live_key_by_hashes(conn, key_hashes.candidates(api_key))
    now = time.monotonic()
    if row is None:
        with _lock:
            _negative[key_hash] = now + _NEGATIVE_TTL_S
            _negative.move_to_end(key_hash)
            while len(_negative) > _NEGATIVE_MAX:
                _negative.popitem(last=False)
        raise AuthenticationError("Invalid API key provided.", code="api_key_invalid")
    with _lock:
        _cache[key_hash] = (row["merchant_id"], row["id"], now + AUTH_CACHE_TTL_S)
    stale = None
    if row["key_hash"] != key_hash:
        stale = StaleHash(row["id"], row["key_hash"], key_hash)
    return Principal(row["merchant_id"], row["id"]), stale


def last_used_due(key_id: str) -> bool:
    """Whether this process should write the key's `last_used_at` now (at most once a
    minute per key); the caller then runs `record_last_used` in a short transaction."""
    now = time.monotonic()
    with _lock:
        last = _touched.get(key_id)
        if last is not None and now - last < LAST_USED_EVERY_S:
            return False
        _touched[key_id] = now
    return True


def record_last_used(conn: db.Connection, key_id: str) -> None:
    merchant_repo.touch_key(conn, key_id, utcnow())
