"""Payment links across an API-key keyring rotation (docs/api.md, "API key hashes").

A link's return signing secret is derived under the keyring version recorded on the
link. Once the documented rotation removes that version, the merchant's link list and
the link itself still answer (the secret is gone: null), and the checkout never sends
the customer back with an unsigned or wrongly signed return URL.
"""

from __future__ import annotations

import pytest

from chalicelib import db, settings
from chalicelib.keyring import Keyring
from chalicelib.models.payment_links import CreatePaymentLinkRequest, ListPaymentLinksQuery
from chalicelib.services import checkout, payment_links
from chalicelib.services import payment_link_secrets as link_secrets
from chalicelib.services.merchants import CreatedMerchant

BASE = "http://gateway.test"


def test_links_of_a_removed_keyring_version_still_list(
    merchant: CreatedMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as uow:
        created, _ = payment_links.create_link(
            uow,
            merchant.merchant_id,
            CreatePaymentLinkRequest(
                amount=1_000, currency="INR", return_url="https://shop.example/done"
            ),
            BASE,
        )
    assert created.return_signing_secret is not None
    # Rotation step 3: only a newer version is left.
    newer = Keyring({link_secrets.signing_version() + 1: b"k" * 32})
    monkeypatch.setattr(settings, "api_key_keyring", lambda: newer)

    with db.connection() as conn:
        listed, _ = payment_links.list_links(
            conn, merchant.merchant_id, ListPaymentLinksQuery(), BASE
        )
        got = payment_links.get_link(conn, merchant.merchant_id, created.id, BASE)
        row = checkout.page_link(conn, created.id)
    assert [link.id for link in listed] == [created.id]
    assert listed[0].return_signing_secret is None and got.return_signing_secret is None
    assert row is not None
    assert checkout.redirect_url(row, "pay_review") is None  # never unsigned
