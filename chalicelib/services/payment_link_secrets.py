"""A payment link's two secrets, and the return URL's signature.

- The client secret (`plcs_…`) is the checkout page's credential for confirm and
  status. It is shown once, at creation, and stored only as a keyed hash: HMAC-SHA256
  under the newest version of the API-key keyring (as API keys are,
  services/key_hashes.py), with its own domain, stored as `hmac-sha256:v<n>:<hex>`.
  Every version still verifies.
- The return signing secret (`plss_…`) is derived, never stored: HMAC of the link id
  under the keyring version recorded on the link. The gateway signs the return URL with
  it; the merchant verifies (docs/api.md, "Return URL"). Once that version is removed
  from the keyring, the link has no signing secret and no return URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from chalicelib import keyring, settings

CLIENT_SECRET_PREFIX = "plcs_"  # noqa: S105  # nosec B105: a prefix, not a secret
SIGNING_SECRET_PREFIX = "plss_"  # noqa: S105  # nosec B105: a prefix, not a secret
_CLIENT_DOMAIN = b"payment-link-client-secret\x00"
_SIGNING_DOMAIN = b"payment-link-return-signing\x00"


def _keys() -> dict[int, bytes]:
    """The API-key keyring's keys by version, or (none configured) the idempotency
    key's version 1 alone, as key_hashes does before key versions."""
    ring = settings.api_key_keyring()
    if ring is not None:
        return ring.keys
    legacy = settings.idempotency_keyring().keys.get(1)
    if legacy is None:
        raise RuntimeError("API_KEY_HMAC_KEY is not set and the idempotency key has no v1")
    return {1: legacy}


def new_client_secret() -> str:
    return CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)


def _client_mac(version: int, key: bytes, secret: str) -> str:
    digest = hashlib.sha256(secret.encode()).digest()
    return f"{keyring.SCHEME}v{version}:{hmac.digest(key, _CLIENT_DOMAIN + digest, 'sha256').hex()}"


def hash_client_secret(secret: str) -> str:
    keys = _keys()
    newest = max(keys)
    return _client_mac(newest, keys[newest], secret)


def client_secret_matches(secret: str, stored: str) -> bool:
    """Whether `secret` is the one stored (under the version that stored it)."""
    keys = _keys()
    version = keyring.version_of(stored, 1)
    key = keys.get(version)
    if key is None or not secret.startswith(CLIENT_SECRET_PREFIX):
        return False
    return hmac.compare_digest(_client_mac(version, key, secret), stored)


def signing_version() -> int:
    return max(_keys())


def signing_secret(link_id: str, version: int) -> str | None:
    """None once the link's keyring version has been removed (rotation's last step):
    its return URL can no longer be signed, and the link's other answers go on."""
    key = _keys().get(version)
    if key is None:
        return None
    mac = hmac.digest(key, _SIGNING_DOMAIN + link_id.encode(), "sha256").hex()
    return SIGNING_SECRET_PREFIX + mac


def return_signature(secret: str, link_id: str, payment_id: str, status: str) -> str:
    """HMAC-SHA256, hex, of `<payment_link_id>.<payment_id>.<status>` under the secret."""
    message = f"{link_id}.{payment_id}.{status}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
