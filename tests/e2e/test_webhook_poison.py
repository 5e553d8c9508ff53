"""Issue 24, item 1: one merchant's webhook URL cannot stop delivery for the others.

A URL that http.client cannot put on the request line (a non-ASCII path) is refused or
normalised at registration; one stored before that check (written here in SQL, as the
old code let it in) fails its own attempts, on its retry schedule, and then ends, while
every other merchant's deliveries go out and are recorded in the same run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chalicelib import db, settings
from tests.e2e.test_webhooks import (
    deliver,
    deliveries,
    latest_event_ids,
    pump,
    record_events,
    register,
)
from tests.e2e.webhook_receiver import Receiver
from tests.support import LiveServer

SCHEDULE = [0.1, 0.1]  # three attempts in all, a tenth of a second apart


@pytest.fixture
def short_schedule(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE_S", str(SCHEDULE))
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver(lambda n: 200).start()
    yield made
    made.stop()


def delivery_row(event_id: str) -> dict[str, Any]:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT id, status, attempts, next_attempt_at FROM webhook_deliveries"
            " WHERE event_id = %s",
            (event_id,),
        ).fetchone()
    assert row is not None
    return row


def test_registration_normalises_the_url(
    api: httpx.Client, receiver: Receiver, endpoints_to_delete: list[str]
) -> None:
    url = receiver.url.replace("/hooks?src=test", "/hook-ü?q=ä")
    created = api.post("/api/v1/webhook_endpoints", json={"url": url})
    assert created.status_code == 201, created.text
    endpoints_to_delete.append(created.json()["id"])
    assert created.json()["url"].endswith("/hook-%C3%BC?q=%C3%A4")
    # Percent-escapes already there are kept, not encoded twice.
    kept = receiver.url.replace("/hooks?src=test", "/a%20b")
    again = api.post("/api/v1/webhook_endpoints", json={"url": kept})
    assert again.status_code == 201, again.text
    endpoints_to_delete.append(again.json()["id"])
    assert again.json()["url"] == kept


def test_unencodable_url_is_refused(api: httpx.Client) -> None:
    # A host label of 70 characters has no IDNA form (labels are at most 63).
    response = api.post("/api/v1/webhook_endpoints", json={"url": "http://" + "ü" * 70 + ".x/"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid", "url")


def test_poison_endpoint_does_not_stop_other_merchants(
    live_server: LiveServer,
    short_schedule: None,
    receiver: Receiver,
    merchant: Any,
    other_merchant: Any,
    endpoints_to_delete: list[str],
) -> None:
    with (
        live_server.client(merchant.api_key) as good,
        live_server.client(other_merchant.api_key) as evil,
    ):
        register(good, receiver, endpoints_to_delete)
        poison = evil.post("/api/v1/webhook_endpoints", json={"url": receiver.url})
        assert poison.status_code == 201, poison.text
        poison_id = poison.json()["id"]
        # As the old validation let it in: a URL http.client cannot send.
        with db.transaction() as conn:
            conn.execute(
                "UPDATE webhook_endpoints SET url = %s WHERE id = %s",
                (receiver.url.replace("/hooks", "/hook-ü"), poison_id),
            )
        record_events(other_merchant.merchant_id, 1)
        record_events(merchant.merchant_id, 3)
        good_events = latest_event_ids(good, 3)
        [poison_event] = latest_event_ids(evil, 1)

        deliver()  # must not raise

        assert receiver.count() == 3
        for event_id in good_events:
            assert [d["status"] for d in deliveries(good, event_id)] == ["succeeded"]
        first = deliveries(evil, poison_event)
        assert first[0]["status"] == "failed" and first[0]["error"], first
        assert delivery_row(poison_event)["status"] == "pending"

        # Retried on its schedule, then it ends: three attempts, each recorded.
        pump(lambda: delivery_row(poison_event)["status"] != "pending", timeout=20)
        row = delivery_row(poison_event)
        assert (row["status"], row["attempts"]) == ("failed", len(SCHEDULE) + 1)
        attempts = deliveries(evil, poison_event)
        assert [a["attempt"] for a in attempts] == [1, 2, 3]
        assert all(a["status"] == "failed" and a["error"] for a in attempts)
        assert receiver.count() == 3

        # A delivery leased for its last attempt by a handler that died comes due again
        # when the lease ends: it is not claimed again, it ends.
        with db.transaction() as conn:
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now()"
                " WHERE id = %s",
                (row["id"],),
            )
        deliver()
        row = delivery_row(poison_event)
        assert (row["status"], row["attempts"]) == ("failed", len(SCHEDULE) + 1)


@pytest.fixture
def endpoints_to_delete(live_server: LiveServer) -> Iterator[list[str]]:
    """Endpoints soft-deleted after the test (directly: two merchants own them)."""
    made: list[str] = []
    yield made
    with db.transaction() as conn:
        conn.execute(
            "UPDATE webhook_endpoints SET status = 'disabled', deleted_at = now()"
            " WHERE id = ANY(%s)",
            (made,),
        )
        conn.execute(
            "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL"
            " WHERE endpoint_id = ANY(%s) AND status = 'pending'",
            (made,),
        )
