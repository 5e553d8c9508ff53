"""Payment links across an API-key keyring rotation (docs/api.md, "Rotating the HMAC
keys").

A link's client secret and return signing secret are derived under the keyring version
recorded on the link. Adding a version (rotation's first step) changes nothing for the
links made before it: the same URL, the checkout still accepts its secret. Once the
documented rotation removes that version, the merchant's link list and the link itself
still answer (no secret in the URL, no return signing secret), the checkout refuses
the old secret, and it never sends the customer back with an unsigned return URL.
A link made before secrets were derived (migration 0014: a random secret, stored as a
keyed hash) keeps accepting its own secret, and its derived one too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import db, settings
from chalicelib.errors import AuthenticationError
from chalicelib.keyring import Keyring
from chalicelib.models.payment_links import (
    CreatePaymentLinkRequest,
    ListPaymentLinksQuery,
    PaymentLinkCreated,
)
from chalicelib.services import checkout, payment_links
from chalicelib.services import payment_link_secrets as link_secrets
from chalicelib.services.merchants import CreatedMerchant

BASE = "http://gateway.test"


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(keys: dict[int, bytes]) -> None:
        ring = Keyring(keys)
        monkeypatch.setattr(settings, "api_key_keyring", lambda: ring)

    yield use


def new_link(merchant: CreatedMerchant) -> PaymentLinkCreated:
    with db.unit_of_work() as uow:
        created, _ = payment_links.create_link(
            uow,
            merchant.merchant_id,
            CreatePaymentLinkRequest(
                amount=1_000, currency="INR", return_url="https://shop.example/done"
            ),
            BASE,
        )
    return created


def read(merchant: CreatedMerchant, link_id: str) -> tuple[str, str, str | None]:
    """The link's URL as GET and the list give it, and its return signing secret."""
    with db.connection() as conn:
        got = payment_links.get_link(conn, merchant.merchant_id, link_id, BASE)
        listed, _ = payment_links.list_links(
            conn, merchant.merchant_id, ListPaymentLinksQuery(), BASE
        )
    in_list = next(link for link in listed if link.id == link_id)
    assert in_list.return_signing_secret == got.return_signing_secret
    return got.url, in_list.url, got.return_signing_secret


def accepts(link_id: str, secret: str) -> bool:
    with db.connection() as conn:
        try:
            checkout.authenticate(conn, link_id, f"Bearer {secret}", "203.0.113.9")
        except AuthenticationError:
            return False
    return True


def test_a_link_keeps_its_url_and_secret_across_a_rotation_until_its_version_goes(
    merchant: CreatedMerchant, use_keyring: Any
) -> None:
    old = dict(link_secrets._keys())  # what the stage runs with
    version = max(old)
    use_keyring(old)
    before = new_link(merchant)
    assert before.client_secret and before.url == f"{BASE}/pay/{before.id}#{before.client_secret}"
    assert read(merchant, before.id) == (before.url, before.url, before.return_signing_secret)

    # Step 1: a new version, the old one kept. New links are made under the new one.
    use_keyring({**old, version + 1: b"n" * 32})
    assert read(merchant, before.id) == (before.url, before.url, before.return_signing_secret)
    assert accepts(before.id, before.client_secret)
    after = new_link(merchant)
    assert after.client_secret and accepts(after.id, after.client_secret)
    assert after.client_secret == link_secrets.client_secret(after.id, version + 1)
    assert after.client_secret != link_secrets.client_secret(after.id, version)

    # Step 3: the old version removed. The old link answers, with no secret to give.
    use_keyring({version + 1: b"n" * 32})
    plain = f"{BASE}/pay/{before.id}"
    assert read(merchant, before.id) == (plain, plain, None)
    assert not accepts(before.id, before.client_secret)
    with db.connection() as conn:
        row = checkout.page_link(conn, before.id)
    assert row is not None and row["status"] == "active"
    assert checkout.redirect_url(row, "pay_review") is None  # never unsigned
    assert read(merchant, after.id)[0] == after.url and accepts(after.id, after.client_secret)


def test_a_link_made_with_a_random_secret_keeps_it_and_gets_a_url_again(
    merchant: CreatedMerchant,
) -> None:
    link = new_link(merchant)
    random_secret = "plcs_" + "Q" * 43  # as links made before migration 0014 were given
    with db.transaction() as conn:
        conn.execute(
            "UPDATE payment_links SET secret_hash = %s WHERE id = %s",
            (link_secrets.hash_client_secret(random_secret), link.id),
        )
    assert accepts(link.id, random_secret)
    url, _, _ = read(merchant, link.id)
    derived = url.split("#", 1)[1]
    assert derived == link.client_secret and accepts(link.id, derived)
    assert not accepts(link.id, random_secret[:-1])


def test_a_link_that_cannot_be_paid_gives_no_secret(merchant: CreatedMerchant) -> None:
    link = new_link(merchant)
    with db.unit_of_work() as uow:
        payment_links.deactivate_link(uow, merchant.merchant_id, link.id, BASE)
    url, listed, _ = read(merchant, link.id)
    assert url == listed == f"{BASE}/pay/{link.id}"
