"""The webhooks view: secret shown once, deliveries with their attempts, redeliver."""

from __future__ import annotations

import threading

from selenium.webdriver.common.by import By

from tests.browser.conftest import Page
from tests.e2e.helpers import create_payment
from tests.e2e.webhook_receiver import Receiver
from tests.support import wait_until


def test_endpoint_deliveries_and_redeliver_from_the_page(page: Page, merchant, api) -> None:
    failing = threading.Event()
    failing.set()
    receiver = Receiver(lambda n: 500 if failing.is_set() else 200).start()
    try:
        page.sign_in(merchant.api_key)
        page.go("#/webhooks")
        url_field = page.wait(lambda d: d.find_element(By.ID, "endpoint-url"))
        url_field.send_keys(receiver.url)
        page.click("#endpoint-create")
        secret = page.wait_text("#secret-value", lambda t: t.startswith("whsec_"))
        receiver.secret = secret
        page.shot("webhooks-secret-once")

        payment = create_payment(api, vpa="success@upi")
        # Three attempts (the first and two retries) answered 500: failed for good.
        wait_until(lambda: receiver.count() >= 3, timeout=60)
        events = api.get("/api/v1/events", params={"type": "payment.succeeded"}).json()["data"]
        event_id = events[0]["id"]
        page.wait_text(
            f'li[data-event="{event_id}"]',
            lambda t: all(f"attempt {n} · failed · HTTP 500" in t for n in (1, 2, 3)),
            timeout=30,
        )
        page.shot("webhooks-deliveries")

        failing.clear()
        before = receiver.count()
        page.click(f'li[data-event="{event_id}"] button')
        page.wait_text("#webhook-message", lambda t: "Redelivered to 1 endpoint" in t)
        wait_until(lambda: receiver.count() > before, timeout=30)
        arrived = receiver.snapshot()[-1]
        assert arrived.webhook_id == event_id and arrived.verified, arrived
        assert arrived.body["data"]["id"] == payment["id"]
        page.wait_text(
            f'li[data-event="{event_id}"]', lambda t: "HTTP 200" in t and "succeeded" in t
        )
        page.shot("webhooks-redelivered")

        # Rotating shows the new secret once, in place of nothing.
        endpoint_id = page.text("#endpoints-table tbody tr td")
        page.click(f'button[aria-label="Rotate secret of {endpoint_id}"]')
        rotated = page.wait_text("#secret-value", lambda t: t.startswith("whsec_") and t != secret)
        page.shot("webhooks-rotated")
        secret = rotated
        # The secret was shown once: after leaving the view it appears nowhere.
        page.go("#/payments")
        page.go("#/webhooks")
        page.wait(lambda d: d.find_element(By.ID, "endpoints-table"))
        assert secret not in page.driver.page_source
        assert "whsec_" not in page.driver.page_source
        assert page.axe_violations() == []
    finally:
        receiver.stop()
