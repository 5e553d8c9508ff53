# ruff: noqa: F811  (the fixtures imported from test_webhooks are parameters here)
"""Issue 11, items 2 and 4: signing secrets sealed with KMS (replay without the secret,
rotation with two signatures), and one slow receiver never delaying another merchant."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from chalicelib import db
from chalicelib.adapters import kms
from chalicelib.handlers import deliver_webhooks as webhook_delivery
from tests.e2e.test_webhooks import (  # noqa: F401 - fixtures
    deliveries,
    endpoints_to_delete,
    latest_event_ids,
    pump,
    receivers,
    record_events,
    register,
    webhook_env,
)
from tests.support import FakeContext, wait_until


class TrickleReceiver:
    """Accepts, reads the request, then answers one byte every `every_s` seconds."""

    def __init__(self, every_s: float = 1.0) -> None:
        self.every_s = every_s
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/slow"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        try:
            conn.recv(65536)
            for byte in answer:
                if self.stop.wait(self.every_s):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_trickling_receiver_never_delays_another_merchant(
    live_server, api, merchant, other_merchant, receivers, endpoints_to_delete, webhook_env
):
    webhook_env(webhook_timeout_s="3", webhook_concurrency="8", webhook_endpoint_concurrency="2")
    slow = TrickleReceiver(every_s=1.0)
    try:
        created = api.post("/api/v1/webhook_endpoints", json={"url": slow.url})
        assert created.status_code == 201
        endpoints_to_delete.append(created.json()["id"])
        slow_endpoint = created.json()["id"]
        with live_server.client(other_merchant.api_key) as other_api:
            fast = receivers()
            fast_created = other_api.post("/api/v1/webhook_endpoints", json={"url": fast.url})
            fast.secret = fast_created.json()["secret"]
            fast_endpoint = fast_created.json()["id"]
            record_events(merchant.merchant_id, 6)  # more than the endpoint's 2 slots
            summary: dict[str, Any] = {}
            handler = threading.Thread(
                target=lambda: summary.update(webhook_delivery.deliver_webhooks(FakeContext(14)))
            )
            handler.start()
            try:
                wait_until(lambda: slow.connections >= 2, timeout=10, step=0.05)
                slow_events = latest_event_ids(api, 6)

                def slow_sends_ended() -> list[dict[str, Any]]:
                    """The slow endpoint's attempts recorded so far: none until the first
                    two sends reach their 3 s deadline."""
                    return [
                        d
                        for e in slow_events
                        for d in deliveries(api, e)
                        if d["endpoint_id"] == slow_endpoint and d["status"] != "pending"
                    ]

                # While the slow receiver holds its slots, the other merchant's events come,
                # are delivered...
                record_events(other_merchant.merchant_id, 3)
                wait_until(lambda: len(fast.received) >= 3, timeout=10, step=0.02)
                assert not slow_sends_ended(), "delivered only after a slow send ended"
                assert all(r.verified for r in fast.received)
                # ... and recorded as they completed, before any slow send has ended.
                fast_events = latest_event_ids(other_api, 3)
                wait_until(
                    lambda: all(
                        [d["status"] for d in deliveries(other_api, e)] == ["succeeded"]
                        for e in fast_events
                    ),
                    timeout=10,
                    step=0.05,
                )
                assert not slow_sends_ended(), "recorded only after a slow send ended"
                assert slow.connections <= 2  # its cap: 2 slots, whatever is due
            finally:
                handler.join(30)
                other_api.delete(f"/api/v1/webhook_endpoints/{fast_endpoint}")
        assert not handler.is_alive()
        # The slow sends ended at their total deadline although bytes kept coming.
        slow_events = latest_event_ids(api, 6)
        attempts = [
            d
            for e in slow_events
            for d in deliveries(api, e)
            if d["endpoint_id"] == slow_endpoint and d["status"] == "failed"
        ]
        assert attempts
        for attempt in attempts:
            assert attempt["error"] == "timed out after 3s"
            assert attempt["duration_ms"] <= 3600
        # Each fast delivery was sent and recorded once.
        assert sorted(r.webhook_id for r in fast.received) == sorted(fast_events)
    finally:
        slow.close()


def test_secrets_are_sealed_replayed_without_them_and_rotated(
    api, merchant, receivers, endpoints_to_delete
):
    receiver = receivers()
    key = {"Idempotency-Key": f"we-{time.time_ns()}"}
    first = api.post("/api/v1/webhook_endpoints", json={"url": receiver.url}, headers=key)
    assert first.status_code == 201
    created = first.json()
    endpoints_to_delete.append(created["id"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["secret_withheld"] is False
    replay = api.post("/api/v1/webhook_endpoints", json={"url": receiver.url}, headers=key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == {**created, "secret": None, "secret_withheld": True}

    with db.transaction() as conn:
        row = conn.execute(
            "SELECT secret, secret_sealed FROM webhook_endpoints WHERE id = %s", (created["id"],)
        ).fetchone()
        stored = conn.execute(
            "SELECT encode(response_body, 'escape') AS body FROM idempotency_keys"
            " WHERE merchant_id = %s",
            (merchant.merchant_id,),
        ).fetchall()
    assert row["secret"] is None and secret not in str(row["secret_sealed"])
    assert stored and all(secret not in r["body"] for r in stored)
    raw = secret.removeprefix("whsec_")
    assert all(raw not in r["body"] for r in stored)
    # Bound to its merchant and endpoint: under another endpoint's context it does not open.
    context = kms.context_for(merchant.merchant_id, created["id"])
    assert kms.open_sealed(row["secret_sealed"], context).decode() == secret
    with pytest.raises(kms.SealedSecretError):
        kms.open_sealed(row["secret_sealed"], {**context, "endpoint_id": "we_other"})

    rotated = api.post(f"/api/v1/webhook_endpoints/{created['id']}/rotate_secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != secret
    # For 24 h both sign: a receiver verifying with either secret accepts.
    for verify_with in (secret, new_secret):
        receiver.secret = verify_with
        before = len(receiver.received)
        record_events(merchant.merchant_id, 1)
        pump(lambda b=before: len(receiver.received) > b)
        assert receiver.received[-1].verified, receiver.received[-1].error
    missing = api.post("/api/v1/webhook_endpoints/we_doesnotexist1/rotate_secret")
    assert missing.status_code == 404
