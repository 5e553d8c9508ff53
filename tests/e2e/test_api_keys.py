"""API key lifecycle (issue 11, item 3): workers.admin create-key / list-keys / revoke-key,
two live keys per merchant, revocation within 1 s in every warm process, and a burst of
invalid keys refused per client address without a database query per attempt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from chalicelib import db
from tests.support import ROOT, start_server, stop_server


def admin(*args: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "workers.admin", *args],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout if done.returncode == 0 else done.stderr
    return done.returncode, json.loads(out.strip().splitlines()[-1])


def test_create_list_and_revoke_keys_two_live_at_most(live_server, merchant):
    code, listed = admin("list-keys", "--merchant", merchant.merchant_id)
    assert code == 0 and len(listed["keys"]) == 1
    (first,) = listed["keys"]
    assert first["prefix"] == merchant.api_key[:12] and first["revoked_at"] is None
    assert first["key_id"].startswith("key_") and first["created_at"].endswith("Z")

    code, second = admin("create-key", "--merchant", merchant.merchant_id)
    assert code == 0 and second["api_key"].startswith("sk_test_")
    assert second["prefix"] == second["api_key"][:12]
    code, refused = admin("create-key", "--merchant", merchant.merchant_id)
    assert code == 2 and "2 live keys" in refused["error"]

    with live_server.client(second["api_key"]) as api:
        assert api.get("/api/v1/payments").status_code == 200
    code, listed = admin("list-keys", "--merchant", merchant.merchant_id)
    by_id = {k["key_id"]: k for k in listed["keys"]}
    assert by_id[second["key_id"]]["last_used_at"] is not None  # written on first use
    assert "api_key" not in json.dumps(listed) and second["api_key"] not in json.dumps(listed)

    code, revoked = admin("revoke-key", "--key", first["key_id"])
    assert code == 0 and revoked["revoked_at"]
    code, third = admin("create-key", "--merchant", merchant.merchant_id)
    assert code == 0, third  # one revoked: room for a new one


def test_last_used_is_not_a_write_per_request(live_server, merchant):
    with live_server.client(merchant.api_key) as api:
        for _ in range(20):
            assert api.get("/api/v1/payments").status_code == 200
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT last_used_at, xmin::text AS version FROM api_keys WHERE merchant_id = %s",
            (merchant.merchant_id,),
        ).fetchone()
    assert row["last_used_at"] is not None
    with live_server.client(merchant.api_key) as api:
        for _ in range(20):
            assert api.get("/api/v1/payments").status_code == 200
    with db.transaction() as conn:
        again = conn.execute(
            "SELECT xmin::text AS version FROM api_keys WHERE merchant_id = %s",
            (merchant.merchant_id,),
        ).fetchone()
    assert again["version"] == row["version"]  # the row was not written again


def test_revocation_takes_effect_within_a_second_in_every_warm_process(tmp_path, merchant):
    # Several worker processes, each with the key warm in its cache.
    server = start_server(tmp_path, {"SERVE_WORKERS": "3"})
    try:
        clients = [server.client(merchant.api_key) for _ in range(6)]
        for client in clients:
            for _ in range(5):
                assert client.get("/api/v1/payments").status_code == 200
        with db.transaction() as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = now() WHERE merchant_id = %s",
                (merchant.merchant_id,),
            )
        revoked_at = time.monotonic()

        def refused_after(client: httpx.Client) -> float:
            # Until the first 401, each client keeps asking; a 200 after a 401 fails.
            while time.monotonic() - revoked_at < 3.0:
                status = client.get("/api/v1/payments").status_code
                if status == 401:
                    took = time.monotonic() - revoked_at
                    for _ in range(5):
                        assert client.get("/api/v1/payments").status_code == 401
                    return took
                # 429: the key was accepted, then its rate limit (which these loops,
                # asking as fast as they can, exhaust) refused the request.
                assert status in (200, 429), status
            pytest.fail("the revoked key still worked 3 s after revocation")

        with ThreadPoolExecutor(len(clients)) as pool:
            delays = list(pool.map(refused_after, clients))
        assert max(delays) <= 1.25, delays  # 1 s cache + a request's time
    finally:
        stop_server(server)


def test_a_burst_of_invalid_keys_is_refused_per_address(tmp_path, merchant):
    # One worker process, so that the memory of failed keys is the same for every request.
    server = start_server(
        tmp_path,
        {"AUTH_FAILURE_BURST": "5", "AUTH_FAILURE_PER_S": "0.05", "SERVE_WORKERS": "1"},
    )
    try:
        bad = [f"sk_test_{i:043d}" for i in range(60)]
        with server.client() as client:
            statuses = [
                client.get("/api/v1/payments", headers={"Authorization": f"Bearer {k}"})
                for k in bad[:5]
            ]
            assert [r.status_code for r in statuses] == [401] * 5
            # Each key is looked up before the failure is counted (issue 24: a valid key
            # is never refused for others' failures), so these cost a query each...
            for key in bad[5:20]:
                refused = client.get("/api/v1/payments", headers={"Authorization": f"Bearer {key}"})
                assert refused.status_code == 429, refused.text
                assert refused.json()["error"]["code"] == "rate_limited"
                assert int(refused.headers["Retry-After"]) >= 1
            # ...but a key that failed recently is remembered: retrying it asks nothing.
            with db.transaction() as conn:
                conn.execute("SET LOCAL lock_timeout = '10s'")
                conn.execute("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE")
                with server.client() as quick:
                    quick.timeout = httpx.Timeout(3.0)
                    for key in bad[5:20]:
                        refused = quick.get(
                            "/api/v1/payments", headers={"Authorization": f"Bearer {key}"}
                        )
                        assert refused.status_code == 429, refused.text
        # Another address is not refused (127.0.0.2 is loopback too).
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.base_url, transport=transport, timeout=10) as other:
            answer = other.get("/api/v1/payments", headers={"Authorization": f"Bearer {bad[0]}"})
            assert answer.status_code == 401
            ok = other.get(
                "/api/v1/payments", headers={"Authorization": f"Bearer {merchant.api_key}"}
            )
            assert ok.status_code == 200
    finally:
        stop_server(server)
