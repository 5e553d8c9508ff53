"""Idempotency-Key on POSTs over HTTP (docs/api.md): replay, reuse, validation, scope, races."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.helpers import unique


def payment_body(**fields):
    body = {"order_id": unique(), "amount": 5_000, "currency": "INR", "method": "upi"}
    body.update(fields)
    return body


def count_payments(api, order_id: str) -> int:
    return len(api.get("/api/v1/payments", params={"order_id": order_id}).json()["data"])


def test_same_key_same_body_replays_status_and_bytes(api):
    key = {"Idempotency-Key": unique("key")}
    body = payment_body(metadata={"a": "1", "b": "2"})
    first = api.post("/api/v1/payments", json=body, headers=key)
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    # Equal as parsed JSON: other key order and spacing are the same request.
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2).encode()
    for raw in (json.dumps(body).encode(), reordered):
        again = api.post(
            "/api/v1/payments",
            content=raw,
            headers={**key, "Content-Type": "application/json"},
        )
        assert again.status_code == 202
        assert again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == first.headers["Location"]
    assert count_payments(api, body["order_id"]) == 1


def test_same_key_different_body_is_reused(api):
    key = {"Idempotency-Key": unique("key")}
    body = payment_body()
    assert api.post("/api/v1/payments", json=body, headers=key).status_code == 202
    other = api.post("/api/v1/payments", json={**body, "amount": 5_001}, headers=key)
    assert other.status_code == 400
    error = other.json()["error"]
    assert (error["type"], error["code"]) == ("idempotency_error", "idempotency_key_reused")
    # Another path with the same body is another request too.
    payment_id = api.post("/api/v1/payments", json=body, headers=key).json()["id"]
    cancel = api.post(f"/api/v1/payments/{payment_id}/cancel", headers=key)
    assert cancel.status_code == 400
    assert cancel.json()["error"]["code"] == "idempotency_key_reused"


def test_key_must_be_1_to_255_chars(api):
    for bad in ("", "k" * 256):
        headers = {"Idempotency-Key": bad}
        response = api.post("/api/v1/payments", json=payment_body(), headers=headers)
        assert response.status_code == 400, (len(bad), response.text)
        error = response.json()["error"]
        assert error["code"] == "parameter_invalid"
        assert error["param"] == "Idempotency-Key"
    longest = {"Idempotency-Key": unique("k").ljust(255, "x")}
    assert api.post("/api/v1/payments", json=payment_body(), headers=longest).status_code == 202


def test_validation_failure_is_not_stored(api):
    key = {"Idempotency-Key": unique("key")}
    body = payment_body()
    bad = api.post("/api/v1/payments", json={**body, "amount": 0}, headers=key)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "parameter_invalid"
    unknown = api.post("/api/v1/payments", json={**body, "colour": "red"}, headers=key)
    assert unknown.status_code == 400
    assert (unknown.json()["error"]["code"], unknown.json()["error"]["param"]) == (
        "parameter_unknown",
        "colour",
    )
    good = api.post("/api/v1/payments", json=body, headers=key)
    assert good.status_code == 202 and "Idempotent-Replayed" not in good.headers


def test_keys_are_scoped_per_merchant(live_server, merchant, other_merchant):
    key = {"Idempotency-Key": unique("key")}
    body = payment_body()
    with live_server.client(merchant.api_key) as a, live_server.client(other_merchant.api_key) as b:
        first = a.post("/api/v1/payments", json=body, headers=key)
        second = b.post("/api/v1/payments", json=body, headers=key)
        assert first.status_code == second.status_code == 202
        assert "Idempotent-Replayed" not in second.headers
        assert first.json()["id"] != second.json()["id"]
        # And A's replay is still A's payment.
        replay = a.post("/api/v1/payments", json=body, headers=key)
        assert replay.content == first.content


def test_fifty_concurrent_requests_with_one_key_make_one_payment(live_server, merchant):
    key = {"Idempotency-Key": unique("key")}
    body = payment_body()

    def send(_: int):
        with live_server.client(merchant.api_key) as client:
            return client.post("/api/v1/payments", json=body, headers=key)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(send, range(50)))
    created = [a for a in answers if a.status_code == 202]
    in_use = [a for a in answers if a.status_code == 409]
    assert len(created) + len(in_use) == 50, [a.status_code for a in answers]
    assert created, "one request must have executed"
    assert len({a.content for a in created}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in created) == 1
    for answer in in_use:
        assert answer.json()["error"]["code"] == "idempotency_key_in_use"
    with live_server.client(merchant.api_key) as client:
        assert count_payments(client, body["order_id"]) == 1
        # Once the first has finished, the key replays.
        replay = client.post("/api/v1/payments", json=body, headers=key)
        assert replay.status_code == 202 and replay.content == created[0].content
