"""A payment link's client secret (derived from the keyring and the link id, checked in
constant time; a random secret of a link made before migration 0014 still verifies
against its keyed hash) and the return URL's signature (docs/api.md, "Return URL")."""

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


def test_the_client_secret_is_derived_per_link_and_version(keyring, monkeypatch) -> None:
    first = secrets.client_secret("plink_a", 1)
    assert first is not None and first.startswith("plcs_") and len(first) == 5 + 43
    assert first == secrets.client_secret("plink_a", 1)  # the same at every read
    assert first != secrets.client_secret("plink_b", 1)
    assert first[5:] not in (secrets.signing_secret("plink_a", 1) or "")  # its own domain
    assert secrets.client_secret_matches(first, "plink_a", 1)
    for wrong in (
        secrets.client_secret("plink_b", 1),  # another link's
        first[:-1],
        first + "x",
        first[:-1] + ("A" if first[-1] != "A" else "B"),
        "sk_test_" + first[5:],  # not a client secret's shape
        "",
        "plcs_é" + first[6:],  # not ASCII: refused, not an exception
        "plcs_\udcff" + first[6:],
    ):
        assert not secrets.client_secret_matches(str(wrong), "plink_a", 1), wrong
    rotate(monkeypatch)
    assert secrets.client_secret("plink_a", 1) == first  # the link's version, not the newest
    assert secrets.client_secret_matches(first, "plink_a", 1)
    assert secrets.client_secret("plink_a", 2) != first and secrets.signing_version() == 2
    assert not secrets.client_secret_matches(first, "plink_a", 2)
    assert secrets.client_secret("plink_a", 3) is None  # a version the keyring lacks
    assert not secrets.client_secret_matches(first, "plink_a", 3)


def test_a_random_secret_stored_before_derivation_still_verifies(keyring, monkeypatch) -> None:
    """A link made before migration 0014: its random secret, stored as a keyed hash,
    verifies, and so does its derived one (so that its URL can be given again)."""
    old = "plcs_" + "R" * 43
    stored = secrets.hash_client_secret(old)
    assert stored.startswith("hmac-sha256:v1:") and old not in stored
    assert hashlib.sha256(old.encode()).hexdigest() not in stored  # not an unkeyed hash
    assert secrets.client_secret_matches(old, "plink_a", 1, stored)
    derived = secrets.client_secret("plink_a", 1)
    assert derived is not None and secrets.client_secret_matches(derived, "plink_a", 1, stored)
    assert not secrets.client_secret_matches(old[:-1], "plink_a", 1, stored)
    assert not secrets.client_secret_matches(old, "plink_a", 1)  # only with its hash
    rotate(monkeypatch)
    assert secrets.client_secret_matches(old, "plink_a", 1, stored)  # v1 still verifies
    monkeypatch.setenv("API_KEY_HMAC_KEY", json.dumps({"2": NEW}))  # v1 removed
    settings.reset_settings()
    assert not secrets.client_secret_matches(old, "plink_a", 1, stored)
    assert not secrets.client_secret_matches(derived, "plink_a", 1, stored)


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
