"""A payment link's client secret (stored as a keyed hash, every keyring version still
verifying) and the return URL's signature (docs/api.md, "Return URL")."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest

from chalicelib import settings
from chalicelib.services import payment_link_secrets as secrets

OLD, NEW = "o" * 32, "n" * 32


@pytest.fixture
def keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("API_KEY_HMAC_KEY", OLD)
    monkeypatch.delenv("API_KEY_HMAC_SECRET_ID", raising=False)
    settings.reset_settings()
    yield
    settings.reset_settings()


def rotate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY_HMAC_KEY", json.dumps({"1": OLD, "2": NEW}))
    settings.reset_settings()


def test_the_secret_is_stored_keyed_and_verifies_after_a_rotation(keyring, monkeypatch) -> None:
    secret = secrets.new_client_secret()
    stored = secrets.hash_client_secret(secret)
    assert stored.startswith("hmac-sha256:v1:") and secret not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() not in stored  # not an unkeyed hash
    assert secrets.client_secret_matches(secret, stored)
    assert not secrets.client_secret_matches(secrets.new_client_secret(), stored)
    assert not secrets.client_secret_matches(secret[:-1], stored)
    assert not secrets.client_secret_matches("sk_test_" + secret[5:], stored)
    rotate(monkeypatch)
    assert secrets.client_secret_matches(secret, stored)  # made under v1, still verifies
    assert secrets.hash_client_secret(secret).startswith("hmac-sha256:v2:")


def test_the_signing_secret_is_derived_per_link_and_version(keyring, monkeypatch) -> None:
    first = secrets.signing_secret("plink_a", 1)
    assert first.startswith("plss_") and first == secrets.signing_secret("plink_a", 1)
    assert first != secrets.signing_secret("plink_b", 1)
    rotate(monkeypatch)
    assert secrets.signing_secret("plink_a", 1) == first  # the link's version, not the newest
    assert secrets.signing_secret("plink_a", 2) != first and secrets.signing_version() == 2


def test_the_return_signature_is_the_documented_hmac(keyring) -> None:
    key = secrets.signing_secret("plink_a", 1)
    expected = hmac.new(key.encode(), b"plink_a.pay_b.succeeded", hashlib.sha256).hexdigest()
    assert secrets.return_signature(key, "plink_a", "pay_b", "succeeded") == expected
    assert secrets.return_signature(key, "plink_a", "pay_c", "succeeded") != expected
