"""The operator view: the queue grows while the scheduler is paused and drains when it
resumes; a planted dead letter is replayed from the page; volume per merchant."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.queue import sql as queue_sql
from chalicelib.queue import stream
from tests.browser.conftest import Page, Scheduler
from tests.e2e.helpers import create_payment
from tests.support import wait_until


def _depth(page: Page) -> int:
    return int(page.text("#m-length"))


def _plant_dead_letter(payment_id: str) -> None:
    """What the drain does with a poison entry: park the row, move the entry to the DLQ."""
    entries = get_redis().xrange(keys.PAYMENTS_STREAM)
    entry_id = next(eid for eid, fields in entries if fields.get("id") == payment_id)
    stream.ensure_group(keys.PAYMENTS_STREAM)
    with db.transaction() as conn:
        queue_sql.park(conn, queue_sql.PAYMENTS, [payment_id])
    stream.dead_letter(
        [stream.StreamEntry(keys.PAYMENTS_STREAM, entry_id, payment_id, 5)],
        "planted by the browser test",
    )


def test_queue_grows_while_paused_drains_on_resume_and_dead_letter_replay(
    page: Page, scheduler: Scheduler, operator_key: str, merchant, api
) -> None:
    page.sign_in(operator_key)
    page.wait(lambda d: d.find_element(By.ID, "m-length"))
    scheduler.stop()
    try:
        start = _depth(page)
        payments = [create_payment(api, vpa="success@upi") for _ in range(8)]
        page.wait(lambda d: _depth(page) >= start + 8, timeout=10)
        page.shot("operator-queue-growing")
        poison = payments[0]["id"]
        _plant_dead_letter(poison)
        row = "#dead-letters tr[data-id] td:nth-child(3)"
        page.wait(
            lambda d: poison in [e.text for e in d.find_elements(By.CSS_SELECTOR, row)], timeout=15
        )
        assert "planted by the browser test" in page.text("#dead-letters")
    finally:
        scheduler.start()
    page.wait(lambda d: _depth(page) == 0, timeout=60)
    page.shot("operator-queue-drained")
    for p in payments[1:]:
        assert api.get(f"/api/v1/payments/{p['id']}").json()["status"] == "SUCCESS"
    assert api.get(f"/api/v1/payments/{poison}").json()["status"] == "PENDING"  # parked

    page.driver.find_element(By.CSS_SELECTOR, f'button[aria-label="Replay {poison}"]').click()
    page.wait_text("#operator-message", lambda t: "Replayed 1" in t)
    wait_until(
        lambda: api.get(f"/api/v1/payments/{poison}").json()["status"] == "SUCCESS", timeout=30
    )
    page.wait(
        lambda d: poison not in [e.text for e in d.find_elements(By.CSS_SELECTOR, row)], timeout=15
    )

    # Per-merchant volume: this merchant's 8 payments, all succeeded after the replay.
    def volume_row(d: object) -> str:
        rows = page.driver.find_elements(By.CSS_SELECTOR, "#merchant-volume tbody tr")
        return next((r.text for r in rows if merchant.merchant_id in r.text), "")

    page.wait(lambda d: "₹800.00" in volume_row(d), timeout=15)
    assert "8 8 0 100.0 % ₹800.00" in volume_row(None)
    assert "accepted" in page.text("figure")
    page.shot("operator")
    assert page.axe_violations() == []


def test_merchant_key_on_the_operator_view_is_refused(page: Page, merchant) -> None:
    page.sign_in(merchant.api_key)
    page.go("#/operator")
    message = page.wait_text("#operator-message [role=alert]", lambda t: bool(t))
    assert message == "This route needs an operator key; a merchant key cannot call it."
    assert not page.driver.find_elements(By.ID, "m-length")
    page.shot("operator-refused")
