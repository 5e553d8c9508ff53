"""Issue 24, item 4: HMAC keys that can be rotated.

Each stored hash (API keys, operator keys, idempotency fingerprints) says which key
version made it; a server given a new version still accepts what older versions made
and rehashes it under the newest on its next use, so the old version can then go.
The key that hashes API keys is not the one that makes idempotency fingerprints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from chalicelib import db, settings
from chalicelib.services import merchants, operator_keys
from tests.support import ROOT, LiveServer, start_server, stop_server

NEW_KEY = "n" * 20 + uuid.uuid4().hex  # 52 characters


def ring(*keys: bytes | str) -> str:
    """A keyring setting: versions 1, 2, ... in order."""
    return json.dumps(
        {str(n): k.decode() if isinstance(k, bytes) else k for n, k in enumerate(keys, 1)}
    )


def server_with(tmp_path: Path, **env: str) -> LiveServer:
    return start_server(tmp_path, {"SERVE_WORKERS": "1", **env})


def stored_key_hash(key_id: str) -> str:
    with db.connection() as conn:
        row = conn.execute("SELECT key_hash FROM api_keys WHERE id = %s", (key_id,)).fetchone()
    return str(row["key_hash"])


def key_id_of(api_key: str) -> str:
    with db.connection() as conn:
        return merchants.find_key(conn, api_key)[0].key_id


def test_the_api_key_hmac_key_is_not_the_idempotency_key() -> None:
    api_ring = settings.api_key_keyring()
    assert api_ring is not None, "the stack configures API_KEY_HMAC_SECRET_ID"
    assert set(api_ring.keys.values()).isdisjoint(settings.idempotency_keyring().keys.values())


def test_an_api_key_survives_a_rotation_and_is_rehashed(tmp_path: Path, merchant) -> None:
    api_ring = settings.api_key_keyring()
    assert api_ring is not None
    old = api_ring.keys[api_ring.newest]
    key_id = key_id_of(merchant.api_key)
    assert stored_key_hash(key_id).startswith(f"hmac-sha256:v{api_ring.newest}:")
    # A new version is added: the key made under the old one still opens, once rehashed.
    rotated = server_with(tmp_path, API_KEY_HMAC_KEY=ring(old, NEW_KEY))
    try:
        with rotated.client(merchant.api_key) as client:
            assert client.get("/api/v1/payments").status_code == 200
    finally:
        stop_server(rotated)
    assert stored_key_hash(key_id).startswith("hmac-sha256:v2:")
    # The old version removed: the key still opens (it was rehashed under version 2).
    only_new = server_with(tmp_path, API_KEY_HMAC_KEY=json.dumps({"2": NEW_KEY}))
    try:
        with only_new.client(merchant.api_key) as client:
            assert client.get("/api/v1/payments").status_code == 200
    finally:
        stop_server(only_new)


def test_a_hash_made_before_versions_is_rehashed(live_server: LiveServer, merchant) -> None:
    """Before key versions one key did both: an API key hashed under the idempotency key still
    opens, and is then hashed under the separate API-key keyring."""
    with db.transaction() as conn:
        created = merchants.create_key(conn, merchant.merchant_id)
        digest = hashlib.sha256(created.api_key.encode()).digest()
        legacy = hmac.new(
            settings.idempotency_keyring().keys[1], b"api-key\x00" + digest, "sha256"
        ).hexdigest()
        conn.execute(
            "UPDATE api_keys SET key_hash = %s WHERE id = %s",
            ("hmac-sha256:" + legacy, created.key_id),
        )
    with live_server.client(created.api_key) as client:
        assert client.get("/api/v1/payments").status_code == 200
    api_ring = settings.api_key_keyring()
    assert api_ring is not None
    assert stored_key_hash(created.key_id).startswith(f"hmac-sha256:v{api_ring.newest}:")


def admin(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "workers.admin", *args],
        cwd=ROOT,
        env={**os.environ, "STAGE": "test"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_operator_keys_rotate_list_and_revoke(tmp_path: Path) -> None:
    with db.transaction() as conn:
        made = operator_keys.create_operator_key(conn, f"rotation {uuid.uuid4().hex[:6]}")
    api_ring = settings.api_key_keyring()
    assert api_ring is not None
    rotated = server_with(tmp_path, API_KEY_HMAC_KEY=ring(api_ring.keys[api_ring.newest], NEW_KEY))
    try:
        with rotated.client(made.operator_key) as client:
            assert client.get("/api/v1/operator/queue").status_code == 200
            with db.connection() as conn:
                row = conn.execute(
                    "SELECT key_hash FROM operator_keys WHERE operator_id = %s",
                    (made.operator_id,),
                ).fetchone()
            assert row["key_hash"].startswith("hmac-sha256:v2:")

            listed = admin("list-operator-keys")["operator_keys"]
            mine = [k for k in listed if k["operator_id"] == made.operator_id]
            assert len(mine) == 1 and mine[0]["revoked_at"] is None
            assert mine[0]["prefix"] == made.operator_key[:12]
            assert "key_hash" not in mine[0]

            revoked = admin("revoke-operator-key", "--operator", made.operator_id)
            assert revoked["operator_id"] == made.operator_id and revoked["revoked_at"]
            at = time.monotonic()
            while client.get("/api/v1/operator/queue").status_code == 200:
                assert time.monotonic() - at < 1.5, "refused within the cache's second"
                time.sleep(0.05)
            assert client.get("/api/v1/operator/queue").status_code == 401
        listed = admin("list-operator-keys")["operator_keys"]
        assert [k["revoked_at"] for k in listed if k["operator_id"] == made.operator_id] != [None]
    finally:
        stop_server(rotated)


def test_idempotency_fingerprints_survive_a_rotation(
    tmp_path: Path, live_server: LiveServer, merchant
) -> None:
    key = f"rot-{uuid.uuid4().hex}"
    body = {
        "order_id": f"o_{uuid.uuid4().hex[:12]}",
        "amount": 5000,
        "currency": "INR",
        "method": "upi",
    }
    headers = {"Idempotency-Key": key}
    with live_server.client(merchant.api_key) as client:
        first = client.post("/api/v1/payments", json=body, headers=headers)
    assert first.status_code == 202, first.text
    old = settings.idempotency_keyring().keys[1]
    rotated = server_with(tmp_path, IDEMPOTENCY_HMAC_KEY=ring(old, NEW_KEY))
    try:
        with rotated.client(merchant.api_key) as client:
            again = client.post("/api/v1/payments", json=body, headers=headers)
            assert again.status_code == 202, again.text
            assert again.headers.get("Idempotent-Replayed") == "true"
            assert again.content == first.content
            with db.connection() as conn:
                row = conn.execute(
                    "SELECT request_hash FROM idempotency_keys WHERE merchant_id = %s AND key = %s",
                    (merchant.merchant_id, key),
                ).fetchone()
            assert row["request_hash"].startswith("hmac-sha256:v2:")
            other = client.post("/api/v1/payments", json={**body, "amount": 5001}, headers=headers)
            assert other.status_code == 400
            assert other.json()["error"]["code"] == "idempotency_key_reused"
    finally:
        stop_server(rotated)
