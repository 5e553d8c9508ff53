"""Stored forms of API and operator keys: HMACs under the versioned API-key keyring.

HMAC(key of version n, "api-key" | SHA-256(key)), stored as `hmac-sha256:v<n>:<hex>`.
The inner SHA-256 lets `rehash_unkeyed` turn a hash stored before keyed hashing (SHA-256
alone) into this form without the key. A hash without `v<n>:` was made before key
versions (issue 24), under the idempotency key's version 1 (one key did both then): it
still verifies, as every older version does, and is rehashed under the newest version
when next used.
"""

from __future__ import annotations

import hashlib
import hmac

from chalicelib import keyring, settings

#: Version of the hashes made before versions, under the idempotency key's version 1.
LEGACY_VERSION = 0
_DOMAIN = b"api-key\x00"


def _legacy(digest: bytes) -> str | None:
    key = settings.idempotency_keyring().keys.get(1)
    if key is None:
        return None
    return keyring.SCHEME + hmac.digest(key, _DOMAIN + digest, "sha256").hex()


def from_digest(digest: bytes) -> str:
    """The stored form, under the newest version, of a key's SHA-256 digest."""
    ring = settings.api_key_keyring()
    if ring is None:  # no separate key configured: hashed as before key versions
        legacy = _legacy(digest)
        if legacy is None:
            raise RuntimeError("API_KEY_HMAC_KEY is not set and the idempotency key has no v1")
        return legacy
    return ring.mac(ring.newest, _DOMAIN + digest)


def hash_key(api_key: str) -> str:
    """The stored form of an API or operator key, under the newest version."""
    return from_digest(hashlib.sha256(api_key.encode()).digest())


def candidates(api_key: str) -> list[str]:
    """Every form the key may be stored in, newest first: one per version, then the
    form made before versions."""
    digest = hashlib.sha256(api_key.encode()).digest()
    ring = settings.api_key_keyring()
    found = [] if ring is None else [ring.mac(v, _DOMAIN + digest) for v in sorted(ring.keys)[::-1]]
    legacy = _legacy(digest)
    if legacy is not None and legacy not in found:
        found.append(legacy)
    return found


def version(stored: str) -> int:
    """The keyring version that made a stored hash (LEGACY_VERSION before versions)."""
    return keyring.version_of(stored, LEGACY_VERSION)
