"""Manual capture over HTTP (issue 25): the routes, their statuses, codes and idempotency."""

from __future__ import annotations

import httpx

from tests.e2e.helpers import create_payment, unique


def _authorized(api: httpx.Client, run_processor, amount: int = 10_000) -> dict:
    payment = create_payment(api, amount, capture_method="manual")
    assert payment["status"] == "PENDING" and payment["capture_method"] == "manual"
    run_processor()
    current = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert current["status"] == "AUTHORIZED", current
    return current


def test_authorize_capture_part_and_refund_over_http(api: httpx.Client, run_processor) -> None:
    payment = _authorized(api, run_processor)
    assert (payment["amount_capturable"], payment["amount_captured"]) == (10_000, 0)
    assert payment["capture_before"] is not None

    response = api.post(
        f"/api/v1/payments/{payment['id']}/capture",
        json={"amount": 2_500},
        headers={"Idempotency-Key": unique("cap")},
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "AUTHORIZED"
    run_processor()
    captured = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert (captured["status"], captured["amount_captured"]) == ("SUCCESS", 2_500)
    history = api.get(f"/api/v1/payments/{payment['id']}/history").json()["data"]
    assert [h["to_status"] for h in history] == ["PENDING", "PROCESSING", "AUTHORIZED", "SUCCESS"]

    too_much = api.post(f"/api/v1/payments/{payment['id']}/refunds", json={"amount": 2_501})
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "amount_too_large"
    refund = api.post(f"/api/v1/payments/{payment['id']}/refunds", json={})
    assert refund.status_code == 202 and refund.json()["amount"] == 2_500


def test_capture_and_cancel_take_idempotency_keys(api: httpx.Client, run_processor) -> None:
    payment = _authorized(api, run_processor)
    key = {"Idempotency-Key": unique("cancel")}
    first = api.post(f"/api/v1/payments/{payment['id']}/cancel", headers=key)
    assert first.status_code == 202, first.text
    replay = api.post(f"/api/v1/payments/{payment['id']}/cancel", headers=key)
    assert replay.status_code == 202 and replay.json() == first.json()
    assert replay.headers.get("Idempotent-Replayed") == "true"
    again = api.post(f"/api/v1/payments/{payment['id']}/cancel")  # without the key
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "payment_not_cancellable"

    capture = api.post(f"/api/v1/payments/{payment['id']}/capture", json={})
    assert capture.status_code == 409
    assert capture.json()["error"]["code"] == "payment_not_capturable"
    run_processor()
    cancelled = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert (cancelled["status"], cancelled["cancellation_reason"]) == (
        "CANCELLED", "requested_by_customer",
    )  # fmt: skip


def test_bad_capture_requests_get_the_contract_errors(api: httpx.Client, run_processor) -> None:
    payment = _authorized(api, run_processor, 5_000)
    path = f"/api/v1/payments/{payment['id']}/capture"
    for body, code in (
        ({"amount": 0}, "parameter_invalid"),
        ({"amount": "100"}, "parameter_invalid"),
        ({"amount": 10, "extra": 1}, "parameter_unknown"),
        ({"amount": 5_001}, "amount_too_large"),
    ):
        response = api.post(path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"]["code"] == code, (body, response.text)
    missing = api.post("/api/v1/payments/pay_0000000000000000000000/capture", json={})
    assert missing.status_code == 404
    assert api.post(path, json={}).status_code == 202
    twice = api.post(path, json={})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "payment_already_captured"
    automatic = create_payment(api, 1_000)
    refused = api.post(f"/api/v1/payments/{automatic['id']}/capture", json={})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "payment_not_capturable"
