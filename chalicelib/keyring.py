"""Versioned HMAC keys, so that a key can be rotated without invalidating what it made.

Two keyrings, never the same key: one hashes API and operator keys, the other makes
idempotency fingerprints. Each is configured as a plain string (version 1) or as a JSON
object of versions, e.g. `{"1": "<old key>", "2": "<new key>"}` (each key at least 32
characters). Everything is made under the newest version; every version still
verifies. A stored value says which version made it: `hmac-sha256:v<n>:<hex>`; one
without `v<n>:` was made before versions existed (docs/api.md, "Rotating the HMAC keys").
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass

SCHEME = "hmac-sha256:"
MIN_KEY_LENGTH = 32
_VERSIONED = re.compile(r"^hmac-sha256:v([0-9]{1,6}):")


class KeyringError(RuntimeError):
    """A keyring setting that cannot be used (says which, never the key)."""


@dataclass(frozen=True)
class Keyring:
    """Keys by version; `newest` makes new values, every version verifies."""

    keys: dict[int, bytes]

    @property
    def newest(self) -> int:
        return max(self.keys)

    def mac(self, version: int, message: bytes) -> str:
        """The stored form of an HMAC-SHA256 of `message` under key `version`."""
        digest = hmac.digest(self.keys[version], message, "sha256")  # OpenSSL one-shot
        return f"{SCHEME}v{version}:{digest.hex()}"


def parse(raw: str, setting: str) -> Keyring:
    """A keyring from a setting's value: a plain key (version 1) or a JSON object."""
    text = raw.strip()
    if text.startswith("{"):
        try:
            versions = {int(v): str(k) for v, k in json.loads(text).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise KeyringError(f"{setting} must map versions (integers) to keys") from exc
    else:
        versions = {1: text}
    if not versions or min(versions) < 1:
        raise KeyringError(f"{setting} needs at least one version, numbered from 1")
    if any(len(key) < MIN_KEY_LENGTH for key in versions.values()):
        raise KeyringError(f"every key of {setting} must be at least {MIN_KEY_LENGTH} characters")
    return Keyring({version: key.encode() for version, key in versions.items()})


def version_of(stored: str, unversioned: int) -> int:
    """The version that made a stored value; `unversioned` for one made before versions."""
    match = _VERSIONED.match(stored)
    return int(match.group(1)) if match else unversioned
