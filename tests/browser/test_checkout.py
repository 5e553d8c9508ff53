"""The hosted checkout in headless Chromium (issue 26): a customer opens a payment link,
pays by card through the acquirer's card element (an iframe on the acquirer's origin)
or by UPI, sees the progress and the result, and lands on the merchant's return URL;
the merchant's webhook receives `payment.succeeded`. A declined card shows the decline;
a paid link refuses a second payment. The card numbers typed are then searched for in
the gateway's request log, its database and its Redis. Screenshots of each step go
under build/screenshots/ (checkout-*.png).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from psycopg import sql
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from chalicelib import db
from tests.browser.conftest import Page
from tests.e2e.test_card_data_at_rest import luhn_number, redis_dump, table_texts
from tests.e2e.webhook_receiver import Receiver
from tests.support import wait_until


class Shop:
    """The merchant's site: the page the return URL points to, recording each visit."""

    def __init__(self) -> None:
        self.visits: list[str] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_GET(self) -> None:
                if self.path.startswith("/thanks"):  # not the browser's /favicon.ico
                    shop.visits.append(self.path)
                body = (
                    b'<!doctype html><html lang="en"><head><title>Thanks</title></head>'
                    b"<body><main><h1>Thank you for your order</h1></main></body></html>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/thanks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop() -> Iterator[Shop]:
    running = Shop()
    yield running
    running.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver(lambda n: 200).start()
    yield running
    running.stop()


@pytest.fixture
def merchant_api(page: Page, merchant, receiver: Receiver) -> Iterator[httpx.Client]:
    """The merchant's client on the server the browser uses, with a webhook endpoint."""
    headers = {"Authorization": f"Bearer {merchant.api_key}"}
    with httpx.Client(base_url=page.base_url, headers=headers, timeout=30) as client:
        endpoint = client.post("/api/v1/webhook_endpoints", json={"url": receiver.url})
        assert endpoint.status_code == 201, endpoint.text
        receiver.secret = endpoint.json()["secret"]
        yield client


def new_link(api: httpx.Client, return_url: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": 129_900, "currency": "INR", "description": "Teapot"}
    body.update(fields)
    if return_url:
        body["return_url"] = return_url
    response = api.post("/api/v1/payment_links", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def open_link(page: Page, link: dict[str, Any]) -> None:
    page.driver.get(link["url"])
    page.wait_text("#amount", lambda t: "1,299.00 INR" in t)
    assert "Test merchant" in page.text("#merchant") and page.text("#description") == "Teapot"


def type_card(page: Page, number: str) -> None:
    driver = page.driver
    frame = page.wait(lambda d: d.find_element(By.ID, "card-element"))
    page.wait(lambda d: "/v1/elements/card?origin=" in (frame.get_attribute("src") or ""))
    driver.switch_to.frame(frame)
    try:
        page.wait(lambda d: d.find_element(By.ID, "number")).send_keys(number)
        driver.find_element(By.ID, "exp").send_keys("12/31")
        driver.find_element(By.ID, "cvc").send_keys("123")
    finally:
        driver.switch_to.default_content()


def check_card_element(page: Page) -> None:
    """axe-core inside the acquirer's iframe too (axe on the page does not enter it)."""
    page.driver.switch_to.frame(page.driver.find_element(By.ID, "card-element"))
    try:
        page.wait(lambda d: d.find_element(By.ID, "number"))
        violations = page.axe_violations()
    finally:
        page.driver.switch_to.default_content()
    assert violations == [], violations


def check_page(page: Page, shot: str) -> None:
    page.shot(shot)
    violations = page.axe_violations()
    assert violations == [], violations


def pay(page: Page) -> None:
    """Press Pay and wait for the page's success (a charge, or a manual link's authorization)."""
    page.click("#pay-button")
    page.wait_text("#progress", lambda t: "Payment succeeded" in t, timeout=60)


def back_at_shop(page: Page, shop: Shop, shot: str) -> None:
    """The page has sent the customer to the return URL."""
    wait_until(lambda: shop.visits, timeout=30)
    page.wait(lambda d: d.current_url.startswith(shop.url))
    page.shot(shot)


def verify_return(shop: Shop, link: dict[str, Any], status: str = "succeeded") -> str:
    """The payment id of the return visit, after checking its status and signature."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(shop.visits[-1]).query).items()}
    assert query["payment_link_id"] == link["id"] and query["status"] == status
    message = f"{link['id']}.{query['payment_id']}.{status}".encode()
    expected = hmac.new(link["return_signing_secret"].encode(), message, hashlib.sha256)
    assert hmac.compare_digest(query["signature"], expected.hexdigest())
    return query["payment_id"]


def succeeded_webhook(
    receiver: Receiver, payment_id: str, event: str = "payment.succeeded"
) -> dict[str, Any]:
    def arrived() -> dict[str, Any] | None:
        for delivery in receiver.snapshot():
            data = delivery.body.get("data", {})
            if delivery.body.get("type") == event and data.get("id") == payment_id:
                assert delivery.verified, delivery.error
                return data
        return None

    return wait_until(arrived, timeout=60)


def test_card_upi_decline_and_a_paid_link_with_no_card_number_kept(
    page: Page,
    merchant_api: httpx.Client,
    shop: Shop,
    receiver: Receiver,
    dashboard_server,
    scheduler,
) -> None:
    typed: list[str] = []

    # 1. Card, through the acquirer's iframe, to the return URL and the webhook.
    link = new_link(merchant_api, shop.url)
    open_link(page, link)
    assert "#" not in page.driver.current_url  # the secret left the address bar
    check_page(page, "checkout-card-1-form")
    check_card_element(page)
    number = luhn_number("4")
    typed.append(number)
    type_card(page, number)
    page.shot("checkout-card-2-filled")
    pay(page)
    check_page(page, "checkout-card-3-succeeded")
    back_at_shop(page, shop, "checkout-card-4-returned")
    payment_id = verify_return(shop, link)
    data = succeeded_webhook(receiver, payment_id)
    assert data["payment_link_id"] == link["id"] and data["card"]["last4"] == number[-4:]

    # 2. A paid link shows a page saying so, and refuses another payment.
    page.driver.get(link["url"])
    page.wait_text("h1", lambda t: "has been paid" in t)
    assert not page.driver.find_elements(By.ID, "pay-form")
    check_page(page, "checkout-paid-link")
    again = httpx.post(
        f"{page.base_url}/pay/{link['id']}/confirm",
        json={"vpa": "success@upi"},
        headers={"Authorization": f"Bearer {link['client_secret']}"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "payment_link_paid"

    # 3. UPI.
    upi_link = new_link(merchant_api, shop.url)
    open_link(page, upi_link)
    page.click("#method-upi")
    page.wait(lambda d: d.find_element(By.ID, "vpa").is_displayed())
    page.driver.find_element(By.ID, "vpa").send_keys("success@upi")
    check_page(page, "checkout-upi-1-form")
    pay(page)
    page.shot("checkout-upi-2-succeeded")
    wait_until(lambda: len(shop.visits) >= 2, timeout=30)
    upi_payment = verify_return(shop, upi_link)
    assert succeeded_webhook(receiver, upi_payment)["method"] == "upi"

    # 4. A declined card shows the decline, and the customer may try again.
    declined_link = new_link(merchant_api)
    open_link(page, declined_link)
    typed.append("4000000000000002")
    type_card(page, "4000000000000002")
    page.click("#pay-button")
    failure = page.wait_text("#progress", lambda t: "Payment failed" in t, timeout=60)
    assert "declined" in failure
    check_page(page, "checkout-card-declined")
    assert page.driver.find_element(By.ID, "pay-button").is_enabled()
    status = merchant_api.get(f"/api/v1/payment_links/{declined_link['id']}").json()
    assert status["status"] == "active" and status["payment_count"] == 1

    # 5. The numbers typed are nowhere in the gateway: its request log, database, Redis.
    leaks = []
    logs = dashboard_server.log_text() + scheduler.log_path.read_text(errors="replace")
    with db.transaction() as conn:
        for table, text, name in table_texts(conn):
            rows = conn.execute(
                sql.SQL("SELECT {t} AS t FROM {n} WHERE {t} LIKE ANY(%s)").format(t=text, n=name),
                ([f"%{n}%" for n in typed],),
            ).fetchall()
            leaks += [f"{table}: {row['t'][:200]}" for row in rows]
    keyspace = redis_dump()
    for n in typed:
        leaks += [
            f"{where}: {n}" for where, text in (("log", logs), ("redis", keyspace)) if n in text
        ]
    assert not leaks, leaks
    assert page.console_errors() == []


def test_a_manual_capture_link_paid_by_card_is_authorized_then_captured(
    page: Page, merchant_api: httpx.Client, shop: Shop, receiver: Receiver
) -> None:
    """The customer pays a manual link by card: the payment is AUTHORIZED, which the
    page shows as the customer's success before sending them to the return URL (status
    `authorized`, signed). The link is paid; the merchant captures it with the API."""
    link = new_link(merchant_api, shop.url, capture_method="manual")
    assert link["capture_method"] == "manual"
    open_link(page, link)
    number = luhn_number("4")
    type_card(page, number)
    pay(page)
    check_page(page, "checkout-manual-1-authorized")
    back_at_shop(page, shop, "checkout-manual-2-returned")
    payment_id = verify_return(shop, link, "authorized")

    payment = merchant_api.get(f"/api/v1/payments/{payment_id}").json()
    assert (payment["status"], payment["capture_method"]) == ("AUTHORIZED", "manual")
    assert payment["payment_link_id"] == link["id"] and payment["card"]["last4"] == number[-4:]
    assert payment["amount_capturable"] == link["amount"]
    succeeded_webhook(receiver, payment_id, "payment.authorized")
    paid = merchant_api.get(f"/api/v1/payment_links/{link['id']}").json()
    assert (paid["status"], paid["payment_id"]) == ("paid", payment_id)
    again = httpx.post(
        f"{page.base_url}/pay/{link['id']}/confirm",
        json={"vpa": "success@upi"},
        headers={"Authorization": f"Bearer {link['client_secret']}"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "payment_link_paid"

    # The merchant captures it later (the scheduler runs the capture).
    capture = merchant_api.post(f"/api/v1/payments/{payment_id}/capture", json={})
    assert capture.status_code == 202, capture.text

    def captured_payment() -> dict[str, Any] | None:
        current: dict[str, Any] = merchant_api.get(f"/api/v1/payments/{payment_id}").json()
        return current if current["status"] == "SUCCESS" else None

    captured = wait_until(captured_payment, timeout=60)
    assert captured["amount_captured"] == link["amount"]
    assert succeeded_webhook(receiver, payment_id)["payment_link_id"] == link["id"]
    done = merchant_api.get(f"/api/v1/payment_links/{link['id']}").json()
    assert (done["status"], done["payment_id"], done["payment_count"]) == ("paid", payment_id, 1)
    page.driver.get(link["url"])
    page.wait_text("h1", lambda t: "has been paid" in t)
    page.shot("checkout-manual-3-paid-link")
    assert page.console_errors() == []


def test_the_dashboard_creates_lists_copies_and_deactivates_links(
    page: Page, merchant, merchant_api: httpx.Client
) -> None:
    page.sign_in(merchant.api_key)
    page.go("#/links")
    page.wait(lambda d: d.find_element(By.ID, "link-amount")).clear()
    page.driver.find_element(By.ID, "link-amount").send_keys("129900")
    page.driver.find_element(By.ID, "link-description").send_keys("Teapot")
    Select(page.driver.find_element(By.ID, "link-capture")).select_by_value("manual")
    page.click("#link-create")
    url = page.wait_text("#link-url", lambda t: "/pay/plink_" in t and "#plcs_" in t)
    link_id = url.split("/pay/", 1)[1].split("#", 1)[0]
    assert merchant_api.get(f"/api/v1/payment_links/{link_id}").json()["capture_method"] == (
        "manual"
    )
    row = f'#links-table tr[data-id="{link_id}"]'
    page.wait_text(row, lambda t: "active" in t and "₹1,299.00" in t and "manual capture" in t)
    page.click("#link-copy")
    page.wait_text("#announce", lambda t: "copied" in t.lower() or url in t)
    page.driver.execute_script("document.getElementById('announce').textContent = ''")
    page.click(f'button[aria-label="Copy link of {link_id}"]')  # the row's
    page.wait_text("#announce", lambda t: "copied" in t.lower() or url in t)
    check_page(page, "dashboard-links-created")

    # The copied URL is the customer's: it opens the page, which can confirm with it.
    # A manual link's payment is authorized: the customer's success, the link paid.
    page.driver.get(url)
    page.wait_text("#amount", lambda t: "1,299.00 INR" in t)
    page.click("#method-upi")
    page.driver.find_element(By.ID, "vpa").send_keys("success@upi")
    pay(page)
    page.driver.get(f"{page.base_url}/dashboard#/links")
    page.wait_text(row, lambda t: "paid" in t and "1 attempt" in t and "paid by pay_" in t)
    page.shot("dashboard-links-paid")
    page.click(f"{row} a")  # the payment, an ordinary one, names its link
    page.wait(lambda d: d.find_element(By.LINK_TEXT, link_id))
    page.wait_text("#history", lambda t: "PROCESSING → AUTHORIZED" in t)  # to capture
    page.wait_text("#amount-capturable", lambda t: t == "₹1,299.00")
    page.shot("dashboard-links-payment")
    page.go("#/links")

    # Another link, deactivated from the list.
    other = merchant_api.post("/api/v1/payment_links", json={"amount": 500, "currency": "USD"})
    other_row = f'#links-table tr[data-id="{other.json()["id"]}"]'
    page.wait_text(other_row, lambda t: "active" in t)
    page.click(f'button[aria-label="Deactivate {other.json()["id"]}"]')
    page.wait_text(other_row, lambda t: "deactivated" in t)
    page.wait_text("#links-message", lambda t: "deactivated" in t)
    check_page(page, "dashboard-links-deactivated")
    page.driver.get(other.json()["url"])
    page.wait_text("h1", lambda t: "no longer active" in t)
    # The page of a deactivated link is answered 410 Gone, which Chromium logs.
    errors = [e for e in page.console_errors() if "status of 410 (Gone)" not in e]
    assert errors == []


def clipboard_text(page: Page) -> str:
    return str(
        page.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "navigator.clipboard.readText().then(done, (e) => done(`unreadable: ${e}`));"
        )
    )


def test_a_links_url_is_copied_from_a_fresh_tab_and_works(
    page: Page, merchant, merchant_api: httpx.Client, dashboard_server
) -> None:
    """A link made elsewhere (the API, another tab): a tab that never saw its creation
    lists it and copies its whole URL, secret included, which the customer pays with."""
    link = new_link(merchant_api)
    first_tab = page.driver.current_window_handle
    page.driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": page.base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    page.driver.switch_to.new_window("tab")
    try:
        page.sign_in(merchant.api_key)  # a new tab: its own sessionStorage
        page.go("#/links")
        row = f'#links-table tr[data-id="{link["id"]}"]'
        page.wait_text(row, lambda t: "active" in t and "₹1,299.00" in t)
        assert not page.driver.find_elements(By.ID, "link-url")  # not created in this tab
        page.click(f'button[aria-label="Copy link of {link["id"]}"]')
        page.wait_text("#announce", lambda t: "copied" in t.lower())
        copied = clipboard_text(page)
        assert copied == link["url"] and "#plcs_" in copied, copied
        check_page(page, "dashboard-links-copied-in-a-fresh-tab")

        page.driver.get(copied)
        page.wait_text("#amount", lambda t: "1,299.00 INR" in t)
        assert "#" not in page.driver.current_url  # the secret left the address bar
        page.click("#method-upi")
        page.driver.find_element(By.ID, "vpa").send_keys("success@upi")
        pay(page)
        page.shot("dashboard-links-copied-url-paid")
        paid = merchant_api.get(f"/api/v1/payment_links/{link['id']}").json()
        assert paid["status"] == "paid" and "#" not in paid["url"]  # nothing left to pay
        assert page.console_errors() == []
    finally:
        page.driver.close()
        page.driver.switch_to.window(first_tab)
    assert link["client_secret"] not in dashboard_server.log_text()
