"""A payment link's `capture_method` (docs/api.md, "Payment links"): taken, refused with
the contract's errors, given to each payment of the link. A manual link is paid once
its payment is AUTHORIZED (the return URL says `authorized`, signed); the merchant then
captures it, or voids it, which closes the link for good.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chalicelib import db
from tests.e2e.helpers import unique
from tests.e2e.test_payment_links import LINKS, make_link, pay, status


def returned(link: dict[str, Any], redirect_url: str) -> dict[str, str]:
    """The return URL's query, after checking its signature over its own status."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect_url).query).items()}
    message = f"{link['id']}.{query['payment_id']}.{query['status']}".encode()
    expected = hmac.new(link["return_signing_secret"].encode(), message, hashlib.sha256)
    assert hmac.compare_digest(query["signature"], expected.hexdigest())
    return query


def authorized_link(api: httpx.Client, live_server: Any, run_processor) -> tuple[dict, dict]:  # type: ignore[no-untyped-def]
    """A manual link paid by UPI: its payment AUTHORIZED."""
    link = make_link(api, capture_method="manual", return_url="https://shop.example/thanks")
    confirmed = pay(live_server, link, vpa="success@upi")
    assert confirmed.status_code == 202, confirmed.text
    run_processor()
    payment = api.get(f"/api/v1/payments/{confirmed.json()['id']}").json()
    assert payment["status"] == "AUTHORIZED" and payment["capture_method"] == "manual"
    return link, payment


def test_capture_method_is_taken_stored_and_returned(api: httpx.Client) -> None:
    default = make_link(api)
    manual = make_link(api, capture_method="manual")
    explicit = make_link(api, capture_method="automatic")
    assert (default["capture_method"], explicit["capture_method"]) == ("automatic", "automatic")
    assert manual["capture_method"] == "manual"
    assert api.get(f"{LINKS}/{manual['id']}").json()["capture_method"] == "manual"
    listed = {link["id"]: link for link in api.get(LINKS).json()["data"]}
    assert listed[manual["id"]]["capture_method"] == "manual"
    assert listed[default["id"]]["capture_method"] == "automatic"


@pytest.mark.parametrize(
    "value",
    [
        "MANUAL",  # the values are lower case, as for payments: no other spelling
        "Manual",
        "auto",  # not a value
        "",
        None,  # null is not "the default": leave the field out for that
        1,  # not a string
        True,
        ["manual"],
    ],
)
def test_a_bad_capture_method_is_a_400_naming_it_as_payments_do(
    api: httpx.Client, value: object
) -> None:
    """Each bad value: 400 `parameter_invalid`, param `capture_method`, a message naming
    the two values; POST /payments answers the same body."""
    refused = api.post(LINKS, json={"amount": 100, "currency": "INR", "capture_method": value})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "parameter_invalid")
    assert error["param"] == "capture_method"
    assert "'automatic'" in error["message"] and "'manual'" in error["message"]
    payment = api.post(
        "/api/v1/payments",
        json={"order_id": unique(), "amount": 100, "currency": "INR", "method": "upi",
              "vpa": "success@upi", "capture_method": value},
    )  # fmt: skip
    assert payment.status_code == 400 and payment.json()["error"] == error
    assert api.get(LINKS).json()["data"] == []  # nothing was made


def test_a_manual_link_is_paid_once_authorized_then_captured(
    api: httpx.Client, live_server: Any, run_processor
) -> None:
    link, payment = authorized_link(api, live_server, run_processor)
    seen = status(live_server, link)
    assert seen["link_status"] == "paid" and seen["payment"]["status"] == "AUTHORIZED"
    query = returned(link, seen["redirect_url"])
    assert (query["payment_id"], query["status"]) == (payment["id"], "authorized")

    got = api.get(f"{LINKS}/{link['id']}").json()
    assert (got["status"], got["active"], got["payment_id"]) == ("paid", False, payment["id"])
    again = pay(live_server, link, vpa="success@upi")
    assert again.status_code == 409 and again.json()["error"]["code"] == "payment_link_paid"
    page = httpx.get(f"{live_server.base_url}/pay/{link['id']}")
    assert page.status_code == 200 and "has been paid" in page.text

    capture = api.post(f"/api/v1/payments/{payment['id']}/capture", json={})
    assert capture.status_code == 202, capture.text
    run_processor()
    captured = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert (captured["status"], captured["amount_captured"]) == ("SUCCESS", link["amount"])
    got = api.get(f"{LINKS}/{link['id']}").json()
    assert (got["status"], got["payment_id"], got["payment_count"]) == ("paid", payment["id"], 1)
    # Captured before the page looked: the return says what the payment is now.
    assert returned(link, status(live_server, link)["redirect_url"])["status"] == "succeeded"


def test_a_voided_authorization_closes_the_link_for_good(
    api: httpx.Client, live_server: Any, run_processor
) -> None:
    link, payment = authorized_link(api, live_server, run_processor)
    void = api.post(f"/api/v1/payments/{payment['id']}/cancel")
    assert void.status_code == 202, void.text
    # Until the acquirer has released it, the payment is AUTHORIZED and the link paid.
    assert api.get(f"{LINKS}/{link['id']}").json()["status"] == "paid"
    run_processor()
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["status"] == "CANCELLED"

    closed = api.get(f"{LINKS}/{link['id']}").json()
    assert (closed["status"], closed["active"]) == ("deactivated", False)
    assert (closed["payment_id"], closed["payment_count"]) == (None, 1)
    refused = pay(live_server, link, vpa="success@upi")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payment_link_deactivated"
    seen = status(live_server, link)
    assert seen["link_status"] == "deactivated" and seen["redirect_url"] is None
    page = httpx.get(f"{live_server.base_url}/pay/{link['id']}")
    assert page.status_code == 410 and "no longer active" in page.text
    # The order is free again: the merchant asks anew with a new link.
    fresh = make_link(api, order_id=link["order_id"], capture_method="manual")
    assert fresh["status"] == "active"


def test_an_expired_authorization_closes_the_link_too(
    api: httpx.Client, live_server: Any, run_processor
) -> None:
    from chalicelib.handlers import expire_authorizations

    link, payment = authorized_link(api, live_server, run_processor)
    with db.transaction() as conn:
        conn.execute(
            "UPDATE payments SET capture_before = now() - interval '1 second' WHERE id = %s",
            (payment["id"],),
        )
    assert expire_authorizations.expire_authorizations()["voids_queued"] >= 1
    run_processor()
    expired = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert (expired["status"], expired["cancellation_reason"]) == ("CANCELLED", "expired")
    assert api.get(f"{LINKS}/{link['id']}").json()["status"] == "deactivated"
    refused = pay(live_server, link, vpa="success@upi")
    assert refused.json()["error"]["code"] == "payment_link_deactivated"


def test_a_failed_manual_attempt_leaves_the_link_payable(
    api: httpx.Client, live_server: Any, run_processor
) -> None:
    """Only an authorization that was voided closes a link: a declined attempt does not."""
    link = make_link(api, capture_method="manual")
    declined = pay(live_server, link, vpa="failure@upi")
    assert declined.status_code == 202, declined.text
    run_processor()
    assert status(live_server, link)["payment"]["status"] == "FAILED"
    assert api.get(f"{LINKS}/{link['id']}").json()["status"] == "active"
    retried = pay(live_server, link, vpa="success@upi")
    assert retried.status_code == 202, retried.text
    run_processor()
    got = api.get(f"{LINKS}/{link['id']}").json()
    assert (got["status"], got["payment_id"]) == ("paid", retried.json()["id"])
