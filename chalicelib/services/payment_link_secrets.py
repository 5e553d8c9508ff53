"""A payment link's two secrets, and the return URL's signature.

Both secrets are derived, never stored: HMAC-SHA256 of the link id, each with its own
domain, under the version of the API-key keyring recorded on the link
(`payment_links.signing_version`, the newest when the link was made). So the gateway
can give a link's URL again at any time (`GET /api/v1/payment_links/{id}`), and a
rotation that adds a version changes nothing for the links made before it. Once that
version is removed from the keyring, the link has neither secret: its checkout refuses
every secret, and it has no return URL (docs/api.md, "Rotating the HMAC keys").

- The client secret (`plcs_…`) is the checkout page's credential for confirm and
  status, carried in the link URL's fragment. Checked by a constant-time comparison
  with the derived one. A link made before migration 0014 was given a random secret,
  stored as a keyed hash (`secret_hash`, `hmac-sha256:v<n>:<hex>`, as API keys are:
  services/key_hashes.py): that secret still verifies against its hash, and the
  derived one verifies too, so that such a link's URL can be given again as well.
- The return signing secret (`plss_…`): the gateway signs the return URL with it; the
  merchant verifies (docs/api.md, "Return URL").
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from chalicelib import keyring, settings

CLIENT_SECRET_PREFIX = "plcs_"  # noqa: S105  # nosec B105: a prefix, not a secret
SIGNING_SECRET_PREFIX = "plss_"  # noqa: S105  # nosec B105: a prefix, not a secret
#: the keyed hash of a random client secret (links made before migration 0014)
_CLIENT_DOMAIN = b"payment-link-client-secret\x00"
#: the derived client secret
_CLIENT_DERIVED_DOMAIN = b"payment-link-client-secret-derived\x00"
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


def signing_version() -> int:
    """The keyring version a new link records: the newest."""
    return max(_keys())


def client_secret(link_id: str, version: int) -> str | None:
    """The link's client secret; None once its keyring version has been removed."""
    key = _keys().get(version)
    if key is None:
        return None
    mac = hmac.digest(key, _CLIENT_DERIVED_DOMAIN + link_id.encode(), "sha256")
    return CLIENT_SECRET_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _client_mac(version: int, key: bytes, secret: str) -> str:
    digest = hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
    return f"{keyring.SCHEME}v{version}:{hmac.digest(key, _CLIENT_DOMAIN + digest, 'sha256').hex()}"


def hash_client_secret(secret: str) -> str:
    """How a link made before migration 0014 stored its random secret (under the newest
    version); no link is given one any more."""
    keys = _keys()
    newest = max(keys)
    return _client_mac(newest, keys[newest], secret)


def _matches_stored(secret: str, stored: str) -> bool:
    """Under the version that stored it; False once that version is removed."""
    version = keyring.version_of(stored, 1)
    key = _keys().get(version)
    return key is not None and hmac.compare_digest(_client_mac(version, key, secret), stored)


def client_secret_matches(
    secret: str, link_id: str, version: int, stored_hash: str | None = None
) -> bool:
    """Whether `secret` is the link's: the derived one (constant-time), or, for a link
    made before migration 0014, the random one whose keyed hash is `stored_hash`."""
    if not secret.startswith(CLIENT_SECRET_PREFIX):
        return False
    expected = client_secret(link_id, version)
    given = secret.encode("utf-8", "surrogatepass")
    derived = expected is not None and hmac.compare_digest(expected.encode(), given)
    return derived or (stored_hash is not None and _matches_stored(secret, stored_hash))


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
