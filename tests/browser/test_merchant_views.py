"""Merchant views in headless Chromium: payments live, one payment, refunds, retries."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import Page, Scheduler
from tests.e2e.helpers import create_payment, unique


def _create_from_form(
    page: Page, order_id: str, amount: int, outcome: str, capture: str = "automatic"
) -> str:
    page.go("#/new")
    order = page.wait(lambda d: d.find_element(By.ID, "new-order"))
    order.clear()
    order.send_keys(order_id)
    amount_field = page.driver.find_element(By.ID, "new-amount")
    amount_field.clear()
    amount_field.send_keys(str(amount))
    Select(page.driver.find_element(By.ID, "new-outcome")).select_by_value(outcome)
    Select(page.driver.find_element(By.ID, "new-capture")).select_by_value(capture)
    page.click("#create-button")
    page.wait(lambda d: d.execute_script("return location.hash").startswith("#/payments/pay_"))
    return str(page.driver.execute_script("return location.hash")).split("/")[-1]


def test_create_watch_success_open_and_refund_half(
    page: Page, merchant, scheduler: Scheduler, live_server
) -> None:
    page.sign_in(merchant.api_key)
    page.driver.execute_script("window.__noReload = 'still here'")
    scheduler.stop()  # so that the page sees PENDING first, then the change
    try:
        payment_id = _create_from_form(page, unique(), 50_000, "success")
        page.go("#/payments")
        row = f'tr[data-id="{payment_id}"] td.status'
        page.wait_text(row, lambda t: t == "PENDING")
        page.shot("payments-pending")
    finally:
        scheduler.start()
    page.wait_text(row, lambda t: t == "SUCCESS", timeout=30)
    page.shot("payments-list")

    page.click(f'tr[data-id="{payment_id}"] a')
    page.wait_text(
        "#history", lambda t: "PROCESSING → SUCCESS" in t and "attempt 1: succeeded" in t
    )
    page.driver.find_element(By.ID, "refund-amount").send_keys("25000")
    page.driver.find_element(By.ID, "refund-reason").send_keys("half back")
    page.click("#refund-button")
    page.wait_text("#action-message", lambda t: "Refund re_" in t)
    page.wait_text("#refunds-table", lambda t: "SUCCESS" in t and "half back" in t, timeout=30)
    page.wait_text(".fields", lambda t: "₹250.00" in t)
    page.wait_text("#events", lambda t: "refund.succeeded" in t and "payment.succeeded" in t)
    page.shot("payment-detail")
    # The API's refusal is shown as the API wrote it: half is left, 30000 is too much.
    amount_field = page.driver.find_element(By.ID, "refund-amount")
    amount_field.clear()
    amount_field.send_keys("30000")
    page.click("#refund-button")
    page.wait_text("#action-message", lambda t: "amount" in t.lower() and "Refund re_" not in t)
    # A SUCCESS payment cannot be cancelled, captured or voided: no such buttons.
    for absent in ("cancel-button", "capture-button", "void-button"):
        assert page.driver.find_elements(By.ID, absent) == [], absent
    assert page.driver.execute_script("return window.__noReload") == "still here"
    assert page.axe_violations() == []


def test_down_payment_shows_each_retry_then_failed(page: Page, merchant) -> None:
    page.sign_in(merchant.api_key)
    payment_id = _create_from_form(page, unique(), 1_000, "down")
    assert payment_id.startswith("pay_")
    # A retry shows while the payment is still open ...
    page.wait_text("#history", lambda t: "attempt 1: transient_error" in t, timeout=30)
    page.wait_text("#history", lambda t: "attempt 2: transient_error" in t, timeout=30)
    page.shot("payment-retrying")
    # ... and the last attempt makes it FAILED with the processor's code.
    history = page.wait_text("#history", lambda t: "→ FAILED" in t, timeout=60)
    assert "attempt 5: transient_error (processor_unavailable)" in history
    for attempt in range(1, 6):
        assert f"attempt {attempt}: transient_error" in history
    assert "processor_unavailable" in page.text(".fields")
    page.shot("payment-failed")


def test_payments_filter_by_status_and_order(page: Page, merchant, api) -> None:
    first = create_payment(api, vpa="success@upi")
    second = create_payment(api, vpa="failure@upi")
    page.sign_in(merchant.api_key)
    page.wait_text(f'tr[data-id="{second["id"]}"] td.status', lambda t: t == "FAILED")
    page.driver.find_element(By.ID, "filter-order").send_keys(first["order_id"])
    page.click(".filters button")
    page.wait(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#payments-rows tr[data-id]")) == 1)
    assert page.driver.find_element(By.CSS_SELECTOR, f'tr[data-id="{first["id"]}"]')
    page.driver.find_element(By.ID, "filter-order").clear()
    Select(page.driver.find_element(By.ID, "filter-status")).select_by_value("FAILED")
    page.click(".filters button")
    page.wait(
        lambda d: (
            [
                e.get_attribute("data-id")
                for e in d.find_elements(By.CSS_SELECTOR, "#payments-rows tr")
            ]
            == [second["id"]]
        )
    )


def test_authorize_capture_part_then_refund(page: Page, merchant, scheduler: Scheduler) -> None:
    """A manual payment: authorized, shown with its deadline; a partial capture; a refund
    of what was captured. Each action shown only where it applies."""
    page.sign_in(merchant.api_key)
    payment_id = _create_from_form(page, unique(), 40_000, "success", capture="manual")
    page.wait_text("#history", lambda t: "PROCESSING → AUTHORIZED" in t, timeout=30)
    page.wait_text("#amount-capturable", lambda t: t == "₹400.00")
    page.wait_text("#capture-before", lambda t: t != "—")
    assert page.driver.find_elements(By.ID, "refund-button") == []
    assert page.driver.find_elements(By.ID, "cancel-button") == []
    assert page.driver.find_elements(By.ID, "void-button") != []
    page.shot("payment-authorized")

    page.driver.find_element(By.ID, "capture-amount").send_keys("15000")
    page.click("#capture-button")
    page.wait_text("#action-message", lambda t: "Capture of 15000 requested" in t)
    page.wait_text("#history", lambda t: "AUTHORIZED → SUCCESS" in t, timeout=30)
    page.wait_text("#amount-captured", lambda t: t == "₹150.00")
    page.wait_text("#amount-capturable", lambda t: t == "₹0.00")
    page.wait(lambda d: d.find_elements(By.ID, "capture-button") == [])
    assert page.driver.find_elements(By.ID, "void-button") == []
    page.wait_text("#events", lambda t: "payment.captured" in t and "payment.authorized" in t)

    page.driver.find_element(By.ID, "refund-amount").send_keys("15001")  # over the capture
    page.click("#refund-button")
    page.wait_text("#action-message", lambda t: "amount" in t.lower() and "Refund re_" not in t)
    amount_field = page.driver.find_element(By.ID, "refund-amount")
    amount_field.clear()
    page.click("#refund-button")  # all that is left: the captured amount
    page.wait_text("#action-message", lambda t: "Refund re_" in t and "₹150.00" in t)
    page.wait_text("#refunds-table", lambda t: "SUCCESS" in t, timeout=30)
    page.wait(lambda d: d.find_elements(By.ID, "refund-button") == [])  # nothing left
    page.shot("payment-captured-refunded")
    assert payment_id in str(page.driver.execute_script("return location.hash"))
    assert page.axe_violations() == []
