"""Signing, the SSRF guard's address rules and the retry rules, without I/O."""

from __future__ import annotations

import ipaddress
import json
import socket
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from chalicelib.adapters import url_guard
from chalicelib.adapters.url_guard import UnsafeUrlError, check_url
from chalicelib.adapters.webhook_sender import new_secret, sign
from chalicelib.handlers.deliver_webhooks import settle


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = new_secret()
    body = json.dumps({"id": "evt_1", "type": "payment.succeeded", "data": {}})
    timestamp = int(datetime.now(UTC).timestamp())
    headers = {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, "evt_1", timestamp, body),
    }
    assert Webhook(secret).verify(body, headers)["id"] == "evt_1"
    with pytest.raises(Exception):
        Webhook(new_secret()).verify(body, headers)


def test_a_name_with_one_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        addresses = {"mixed.example": ["93.184.215.14", "10.0.0.7"], "ok.example": ["8.8.8.8"]}
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses[host]]

    monkeypatch.setattr(url_guard.socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UnsafeUrlError) as refused:
        check_url("https://mixed.example/x", allow_private=False)
    assert "private" in refused.value.reason and str(refused.value) == url_guard.REFUSED_MESSAGE
    checked = check_url("https://ok.example/x?a=1", allow_private=False)
    assert checked.addresses == ("8.8.8.8",) and checked.path == "/x?a=1"


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert url_guard.refusal_reason(ipaddress.ip_address(address)) is None


def test_settle_rules() -> None:
    now = datetime.now(UTC)
    schedule = [1.0, 2.0]
    assert settle(1, None, True, schedule, now) == ("succeeded", None)
    status, next_at = settle(1, None, False, schedule, now)
    assert status == "pending" and 1.0 <= (next_at - now).total_seconds() <= 1.2
    status, next_at = settle(2, None, False, schedule, now)
    assert status == "pending" and 2.0 <= (next_at - now).total_seconds() <= 2.4
    assert settle(3, None, False, schedule, now) == ("failed", None)
    assert settle(4, 4, False, schedule, now) == ("failed", None)  # a redelivery: one try
