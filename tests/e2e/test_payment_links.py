"""Payment links and the hosted checkout's API (issue 26; docs/api.md, "Payment links").

Links are created, listed, read and deactivated with the merchant's key; the checkout
confirms and polls with the link's client secret only. Cards arrive as tokens of the
acquirer's card element (here made by calling the acquirer's POST /v1/tokens, as the
element does); the gateway never receives a card number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from chalicelib import db
from tests.e2e.helpers import unique

LINKS = "/api/v1/payment_links"


def make_link(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"amount": 49_900, "currency": "INR", "description": "A blue teapot", **fields}
    response = api.post(LINKS, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def pay(live_server: Any, link: dict[str, Any], secret: str | None = None, **body: Any):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {secret or link['client_secret']}"}
    return httpx.post(
        f"{live_server.base_url}/pay/{link['id']}/confirm", json=body, headers=headers, timeout=30
    )


def status(live_server: Any, link: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {link['client_secret']}"}
    response = httpx.get(f"{live_server.base_url}/pay/{link['id']}/status", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def card_token(number: str) -> str:
    """A token of the acquirer's card element, made as the element makes it."""
    card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    response = httpx.post(
        f"{os.environ['ACQUIRER_URL']}/v1/tokens",
        json=card,
        headers={"Idempotency-Key": f"elem_{uuid.uuid4().hex}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_create_read_list_and_the_url_with_its_secret_from_every_read(api, live_server) -> None:
    key = {"Idempotency-Key": unique("link-key")}
    body = {"amount": 1_500, "currency": "usd", "return_url": "https://shop.example/done"}
    created = api.post(LINKS, json=body, headers=key)
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["id"].startswith("plink_") and link["object"] == "payment_link"
    assert link["client_secret"].startswith("plcs_")
    assert link["url"] == f"{live_server.base_url}/pay/{link['id']}#{link['client_secret']}"
    assert link["active"] is True and link["status"] == "active"
    assert link["currency"] == "USD" and link["order_id"] == link["id"]
    assert link["payment_id"] is None and link["payment_count"] == 0

    replay = api.post(LINKS, json=body, headers=key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["client_secret"] is None and "#" not in replay.json()["url"]
    assert replay.json()["return_signing_secret"] is None
    with db.transaction() as conn:
        record = conn.execute(
            "SELECT encode(response_body, 'escape') AS b FROM idempotency_keys WHERE key = %s",
            (key["Idempotency-Key"],),
        ).fetchone()["b"]
    assert link["client_secret"] not in record and link["return_signing_secret"] not in record

    # Every read gives the whole URL again (the secret is derived, never stored).
    got = api.get(f"{LINKS}/{link['id']}").json()
    assert "client_secret" not in got and got["url"] == link["url"]
    assert got["return_signing_secret"] == link["return_signing_secret"]
    listed = api.get(LINKS, params={"limit": 1}).json()
    assert listed["data"][0]["id"] == link["id"] and listed["has_more"] is False
    assert listed["data"][0]["url"] == link["url"]
    assert status(live_server, link)["link_status"] == "active"  # the URL's secret works

    with db.transaction() as conn:
        stored = conn.execute(
            "SELECT l::text AS t, secret_hash FROM payment_links l WHERE id = %s", (link["id"],)
        ).fetchone()
    assert link["client_secret"] not in stored["t"] and stored["secret_hash"] is None
    assert link["client_secret"] not in live_server.log_text()

    # Once it cannot be paid, the URL carries no secret.
    api.post(f"{LINKS}/{link['id']}/deactivate")
    got = api.get(f"{LINKS}/{link['id']}").json()
    assert got["url"] == f"{live_server.base_url}/pay/{link['id']}"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 1.5}, "amount"),
        ({"currency": "XYZ"}, "currency"),
        ({"order_id": "no spaces allowed"}, "order_id"),
        ({"return_url": "javascript:alert(1)"}, "return_url"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"expires_at": "next tuesday"}, "expires_at"),
    ],
)
def test_bad_link_input_gets_a_400_naming_the_field(api, fields, param) -> None:
    body = {"amount": 100, "currency": "INR", **fields}
    response = api.post(LINKS, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_a_link_for_an_order_with_an_active_payment_is_refused(api) -> None:
    order = unique()
    paying = api.post(
        "/api/v1/payments",
        json={"order_id": order, "amount": 100, "currency": "INR", "method": "upi",
              "vpa": "success@upi"},
    )  # fmt: skip
    refused = api.post(LINKS, json={"amount": 100, "currency": "INR", "order_id": order})
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "order_has_active_payment"
    assert error["payment_id"] == paying.json()["id"]


def test_unknown_and_foreign_links_are_404(api, live_server, other_merchant) -> None:
    link = make_link(api)
    with live_server.client(other_merchant.api_key) as other:
        assert other.get(f"{LINKS}/{link['id']}").status_code == 404
        assert other.post(f"{LINKS}/{link['id']}/deactivate").status_code == 404
    assert api.get(f"{LINKS}/pay_123").status_code == 404
    assert api.get(f"{LINKS}/plink_doesnotexist").status_code == 404


def test_a_link_is_paid_once_by_upi_and_the_return_url_is_signed(
    api, live_server, run_processor
) -> None:
    link = make_link(api, return_url="https://shop.example/thanks?cart=7")
    first = pay(live_server, link, vpa="success@upi")
    assert first.status_code == 202, first.text
    payment = first.json()
    assert payment["status"] == "PENDING" and payment["method"] == "upi"
    assert pay(live_server, link, vpa="success@upi").json()["error"]["code"] == (
        "payment_link_in_use"
    )
    run_processor()
    seen = status(live_server, link)
    assert seen["payment"]["status"] == "SUCCESS" and seen["link_status"] == "paid"

    redirect = urlsplit(seen["redirect_url"])
    query = {k: v[0] for k, v in parse_qs(redirect.query).items()}
    assert redirect.netloc == "shop.example" and query["cart"] == "7"
    assert query["payment_id"] == payment["id"] and query["payment_link_id"] == link["id"]
    message = f"{link['id']}.{payment['id']}.succeeded".encode()
    expected = hmac.new(link["return_signing_secret"].encode(), message, hashlib.sha256)
    assert hmac.compare_digest(query["signature"], expected.hexdigest())

    again = pay(live_server, link, vpa="success@upi")
    assert again.status_code == 409 and again.json()["error"]["code"] == "payment_link_paid"
    got = api.get(f"{LINKS}/{link['id']}").json()
    assert got["status"] == "paid" and got["active"] is False
    assert got["payment_id"] == payment["id"] and got["payment_count"] == 1
    listed = api.get("/api/v1/payments", params={"order_id": link["order_id"]}).json()
    assert [p["payment_link_id"] for p in listed["data"]] == [link["id"]]
    by_link = api.get("/api/v1/payments", params={"payment_link_id": link["id"]}).json()
    assert [p["id"] for p in by_link["data"]] == [payment["id"]]
    other = api.get("/api/v1/payments", params={"payment_link_id": "plink_other"}).json()
    assert other["data"] == []


def test_a_failed_attempt_can_be_retried_and_a_card_token_is_charged(
    api, live_server, run_processor
) -> None:
    link = make_link(api, order_id=unique())
    declined = pay(live_server, link, token=card_token("4000000000000002"))
    assert declined.status_code == 202, declined.text
    assert declined.json()["card"]["last4"] == "0002"
    run_processor()
    failed = status(live_server, link)["payment"]
    assert failed["status"] == "FAILED" and failed["failure_code"] == "card_declined"
    assert failed["failure_message"]
    assert status(live_server, link)["link_status"] == "active"

    retried = pay(live_server, link, token=card_token("4242424242424242"))
    assert retried.status_code == 202, retried.text
    run_processor()
    done = api.get(f"/api/v1/payments/{retried.json()['id']}").json()
    assert done["status"] == "SUCCESS" and done["card"]["brand"] == "visa"
    assert done["payment_link_id"] == link["id"] and done["order_id"] == link["order_id"]
    assert status(live_server, link)["redirect_url"] is None  # no return_url on this link


def test_the_checkout_authenticates_with_the_links_secret_only(api, live_server, merchant) -> None:
    link = make_link(api)
    other = make_link(api)
    url = f"{live_server.base_url}/pay/{link['id']}"
    missing = httpx.post(f"{url}/confirm", json={"vpa": "success@upi"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "client_secret_missing"
    for wrong in (other["client_secret"], merchant.api_key, "plcs_guess"):
        answer = pay(live_server, link, secret=wrong, vpa="success@upi")
        assert answer.status_code == 401, wrong
        assert answer.json()["error"]["code"] == "client_secret_invalid"
    wrong_status = httpx.get(
        f"{url}/status", headers={"Authorization": f"Bearer {merchant.api_key}"}
    )
    assert wrong_status.status_code == 401
    assert pay(live_server, {**link, "id": "plink_nosuchlink"}, vpa="a@b").status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "token"),
        ({"token": "tok_sim_ok_abc", "vpa": "a@upi"}, "token"),
        ({"token": "4242424242424242"}, "token"),
        ({"vpa": "not a vpa"}, "vpa"),
        ({"vpa": "a@upi", "card": {"number": "4242424242424242"}}, "card"),
        ({"token": "tok_nosuchtoken"}, "token"),
    ],
)
def test_bad_confirm_input_gets_a_400(api, live_server, body, param) -> None:
    link = make_link(api)
    answer = pay(live_server, link, **body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param


def test_an_expired_cards_token_is_refused_as_a_raw_expired_card_is(api, live_server) -> None:
    """POST /payments refuses an expired card with a 400 before any charge; a token of
    the card element stands for the same card, so confirm refuses it alike."""
    card = {"number": "4242424242424242", "exp_month": 1, "exp_year": 2020, "cvc": "123"}
    issued = httpx.post(
        f"{os.environ['ACQUIRER_URL']}/v1/tokens",
        json=card,
        headers={"Idempotency-Key": f"elem_{uuid.uuid4().hex}"},
    )
    assert issued.status_code == 200, issued.text
    link = make_link(api)
    answer = pay(live_server, link, token=issued.json()["token"])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == "token"
    assert api.get(f"{LINKS}/{link['id']}").json()["payment_count"] == 0


def test_deactivated_and_expired_links_refuse_payment_and_show_a_page(api, live_server) -> None:
    link = make_link(api, expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    deactivated = api.post(f"{LINKS}/{link['id']}/deactivate")
    assert deactivated.status_code == 200 and deactivated.json()["status"] == "deactivated"
    refused = pay(live_server, link, vpa="success@upi")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payment_link_deactivated"
    page = httpx.get(f"{live_server.base_url}/pay/{link['id']}")
    assert page.status_code == 410 and "no longer active" in page.text
    assert 'id="pay-form"' not in page.text

    expired = make_link(api)
    with db.transaction() as conn:
        conn.execute(
            "UPDATE payment_links SET expires_at = now() - interval '1 minute' WHERE id = %s",
            (expired["id"],),
        )
    assert pay(live_server, expired, vpa="success@upi").json()["error"]["code"] == (
        "payment_link_expired"
    )
    page = httpx.get(f"{live_server.base_url}/pay/{expired['id']}")
    assert page.status_code == 410 and "expired" in page.text
    assert httpx.get(f"{live_server.base_url}/pay/plink_nosuchlink").status_code == 404


def test_the_page_shows_the_link_escaped_under_a_strict_csp(api, live_server) -> None:
    link = make_link(api, description="<script>alert(1)</script> & tea", amount=123_456)
    page = httpx.get(f"{live_server.base_url}/pay/{link['id']}")
    assert page.status_code == 200
    assert "1,234.56 INR" in page.text and "Test merchant" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; tea" in page.text
    assert "<script>alert" not in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert f"frame-src {os.environ['ACQUIRER_URL']}" in csp and "unsafe" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    total = len(page.content)
    for name in ("checkout.js", "checkout.css"):
        asset = httpx.get(f"{live_server.base_url}/checkout/{name}")
        assert asset.status_code == 200
        total += len(asset.content)
    assert total < 100_000
    assert httpx.get(f"{live_server.base_url}/checkout/page.html").status_code == 404


def test_tokens_only_merchants_refuse_raw_card_numbers(api, merchant) -> None:
    from tests.e2e.test_api_keys import admin

    card = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}
    body = {"amount": 100, "currency": "INR", "method": "card", "card": card}
    assert api.post("/api/v1/payments", json={**body, "order_id": unique()}).status_code == 202
    code, answer = admin("set-card-data", "--merchant", merchant.merchant_id,
                         "--card-data", "tokens_only")  # fmt: skip
    assert code == 0 and answer == {"merchant_id": merchant.merchant_id, "card_data": "tokens_only"}
    refused = api.post("/api/v1/payments", json={**body, "order_id": unique()})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "card_data_tokens_only" and error["param"] == "card"
    upi = {**body, "order_id": unique(), "method": "upi", "vpa": "success@upi", "card": None}
    assert api.post("/api/v1/payments", json=upi).status_code == 202
    assert admin("set-card-data", "--merchant", "mch_nosuchmerchant",
                 "--card-data", "tokens_only")[0] == 2  # fmt: skip
    admin("set-card-data", "--merchant", merchant.merchant_id, "--card-data", "raw_allowed")
    assert api.post("/api/v1/payments", json={**body, "order_id": unique()}).status_code == 202


def test_the_acquirers_card_element_is_framed_only_by_the_origin_it_was_given() -> None:
    base = os.environ["ACQUIRER_URL"]
    page = httpx.get(f"{base}/v1/elements/card", params={"origin": "http://127.0.0.1:8000"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors http://127.0.0.1:8000" in csp and "script-src 'self'" in csp
    assert "<script>" not in page.text and 'data-parent-origin="http://127.0.0.1:8000"' in page.text
    for bad in ("", "*", "http://a.example/path", "javascript:alert(1)", "http://a b"):
        refused = httpx.get(f"{base}/v1/elements/card", params={"origin": bad})
        assert refused.status_code == 400, bad
    assert httpx.get(f"{base}/v1/elements/card.js").status_code == 200
    token = card_token("4242424242424242")
    described = httpx.get(f"{base}/v1/tokens/{token}").json()
    assert described["last4"] == "4242" and described["exp_year"] == 2031
    assert "number" not in described and "cvc" not in described
    assert httpx.get(f"{base}/v1/tokens/tok_nope").status_code == 404
