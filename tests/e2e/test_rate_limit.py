"""Rate limits per API key: 429 with a Retry-After that works, and failing open without Redis."""

from __future__ import annotations

import time

import pytest

from tests.e2e.helpers import unique
from tests.support import start_server, stop_server


@pytest.fixture
def limited_server(tmp_path):
    server = start_server(tmp_path, {"RATE_LIMIT_BURST": "5", "RATE_LIMIT_PER_S": "1"})
    yield server
    stop_server(server)


def test_burst_over_the_limit_gets_429_and_retry_after_is_honoured(
    limited_server, merchant, other_merchant
):
    with limited_server.client(merchant.api_key) as api:
        answers = [api.get("/api/v1/payments", params={"limit": 1}) for _ in range(8)]
        codes = [a.status_code for a in answers]
        assert codes[:5] == [200] * 5, codes
        assert 429 in codes[5:], codes
        limited = next(a for a in answers if a.status_code == 429)
        error = limited.json()["error"]
        assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limited")
        retry_after = int(limited.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        # Another key has its own bucket.
        with limited_server.client(other_merchant.api_key) as other:
            assert other.get("/api/v1/payments").status_code == 200
        time.sleep(retry_after)  # the subject: after Retry-After, the key is served again
        assert api.get("/api/v1/payments").status_code == 200


def test_redis_down_does_not_refuse_requests(tmp_path, merchant):
    server = start_server(
        tmp_path,
        {"REDIS_URL": "redis://127.0.0.1:1/0", "RATE_LIMIT_BURST": "5", "RATE_LIMIT_PER_S": "1"},
    )
    try:
        with server.client(merchant.api_key) as api:
            codes = [api.get("/api/v1/payments").status_code for _ in range(15)]
            assert codes == [200] * 15
            body = {"order_id": unique(), "amount": 100, "currency": "INR", "method": "upi"}
            # Accepted without Redis: the sweep enqueues it later.
            assert api.post("/api/v1/payments", json=body).status_code == 202
        health = server.client().get("/health")
        assert health.status_code == 503 and health.json()["checks"]["redis"] == "unavailable"
    finally:
        stop_server(server)
