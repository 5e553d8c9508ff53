"""A link's confirm against a concurrent deactivation (issue 26, review).

Confirm reads the link, asks the acquirer what the card token stands for, then inserts
the payment. A deactivation that commits in between must not be followed by a new
payment: either the confirm sees it (409 payment_link_deactivated), or the
deactivation waits for the confirm and comes after it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import connectors, db
from chalicelib.errors import ConflictError
from chalicelib.models.payment_links import ConfirmRequest, CreatePaymentLinkRequest
from chalicelib.services import checkout, payment_links
from chalicelib.services.merchants import CreatedMerchant

BASE = "http://gateway.test"


class _Details:
    brand, last4, exp_month, exp_year = "visa", "4242", 12, 2031


class _DeactivatingAcquirer:
    """Describes any token, and deactivates the link while doing so (the merchant's
    deactivation arriving during the acquirer's round trip)."""

    def __init__(self, merchant_id: str, link_id: str) -> None:
        self.merchant_id, self.link_id = merchant_id, link_id
        self.deactivated_at: datetime | None = None
        self.thread: threading.Thread | None = None
        self.deactivated_during_confirm = False

    def _deactivate(self) -> None:
        with db.unit_of_work() as uow:
            payment_links.deactivate_link(uow, self.merchant_id, self.link_id, BASE)
        self.deactivated_at = datetime.now(UTC)

    def describe_token(self, token: str) -> _Details:
        self.thread = threading.Thread(target=self._deactivate, daemon=True)
        self.thread.start()
        self.thread.join(timeout=1.5)  # the acquirer's round trip
        self.deactivated_during_confirm = not self.thread.is_alive()
        return _Details()


def test_a_deactivation_during_confirm_is_not_followed_by_a_new_payment(
    merchant: CreatedMerchant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as uow:
        created, _ = payment_links.create_link(
            uow,
            merchant.merchant_id,
            CreatePaymentLinkRequest(amount=1_000, currency="INR"),
            BASE,
        )
    acquirer = _DeactivatingAcquirer(merchant.merchant_id, created.id)
    monkeypatch.setattr(checkout, "card_element_origin", lambda: "http://acquirer.test")
    monkeypatch.setattr(connectors, "get_connector", lambda name=None: acquirer)

    outcome: Any
    try:
        with db.unit_of_work(pipelined=True) as uow:
            outcome = checkout.confirm(
                uow,
                created.id,
                f"Bearer {created.client_secret}",
                "127.0.0.1",
                ConfirmRequest(token="tok_sim_ok_review"),  # nosec B106
            )
    except ConflictError as exc:
        outcome = exc
    assert acquirer.thread is not None
    acquirer.thread.join(timeout=10)
    assert acquirer.deactivated_at is not None, "the deactivation never finished"

    if isinstance(outcome, ConflictError):
        assert outcome.code == "payment_link_deactivated"
    else:  # the payment was made: the deactivation must have waited for it
        assert not acquirer.deactivated_during_confirm, (
            "a payment was created through a link after its deactivation committed"
        )


def test_a_link_takes_a_bounded_number_of_attempts(merchant: CreatedMerchant) -> None:
    """Card testing through a shared link: each declined attempt frees the link for the
    next one, so without a bound a link with its secret checks any number of cards."""
    with db.unit_of_work() as uow:
        created, _ = payment_links.create_link(
            uow,
            merchant.merchant_id,
            CreatePaymentLinkRequest(amount=1_000, currency="INR"),
            BASE,
        )

    def attempt() -> Any:
        with db.unit_of_work(pipelined=True) as uow:
            return checkout.confirm(
                uow,
                created.id,
                f"Bearer {created.client_secret}",
                "127.0.0.1",
                ConfirmRequest(vpa="failure@upi"),
            )

    for _ in range(10):  # docs/api.md: a link takes 10 attempts
        payment = attempt()
        with db.transaction() as conn:  # the acquirer declined it
            conn.execute(
                "UPDATE payments SET status = 'FAILED', released_at = now(),"
                " next_attempt_at = NULL WHERE id = %s",
                (payment.id,),
            )
    with pytest.raises(ConflictError) as refused:
        attempt()
    assert refused.value.code == "payment_link_attempts_exhausted"
