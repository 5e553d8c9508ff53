"""Issue 24, item 2: one client's invalid keys never lock out a valid key, even when
every client shares one address (a proxy, a NAT). Only failures are counted."""

from __future__ import annotations

import secrets

import httpx

from chalicelib import db
from chalicelib.services import merchants, operator_keys
from tests.support import start_server, stop_server


def get(client: httpx.Client, path: str, key: str, address: str) -> httpx.Response:
    return client.get(path, headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": address})


def test_other_clients_failures_never_refuse_a_valid_key(tmp_path, merchant) -> None:
    with db.transaction() as conn:
        operator_key = operator_keys.create_operator_key(conn, "lockout").operator_key
    # The test's requests come through "a proxy" at 127.0.0.1, which names the client.
    server = start_server(
        tmp_path,
        {"AUTH_FAILURE_BURST": "5", "AUTH_FAILURE_PER_S": "0.05", "TRUSTED_PROXIES": "127.0.0.1"},
    )
    shared = f"198.51.100.{secrets.randbelow(250) + 1}"  # the NAT everyone is behind
    try:
        with server.client() as client:
            assert get(client, "/api/v1/payments", merchant.api_key, shared).status_code == 200
            bad = [f"sk_test_{secrets.token_urlsafe(32)}" for _ in range(8)]
            statuses = [get(client, "/api/v1/payments", k, shared).status_code for k in bad]
            assert statuses == [401] * 5 + [429] * 3
            refused = get(client, "/api/v1/payments", bad[0], shared)
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) >= 1
            garbage = get(client, "/api/v1/operator/queue", "ok_test_garbage", shared)
            assert garbage.status_code == 429
            # Keys the server has not seen yet (so neither is in its cache of valid keys)
            # are looked up while the address is locked out, and served.
            with db.transaction() as conn:
                merchant_key = merchants.create_key(conn, merchant.merchant_id).api_key
            for _ in range(3):
                answer = get(client, "/api/v1/payments", merchant_key, shared)
                assert answer.status_code == 200, answer.text
                operator = get(client, "/api/v1/operator/queue", operator_key, shared)
                assert operator.status_code == 200, operator.text
            # Another client's failures are its own.
            other = f"203.0.113.{secrets.randbelow(250) + 1}"
            assert get(client, "/api/v1/payments", bad[0], other).status_code == 401
    finally:
        stop_server(server)
