"""The operator API over HTTP: operator keys only, the contract's errors, the figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chalicelib import db
from chalicelib.services import operator_keys
from tests.e2e.helpers import create_payment
from tests.support import ROOT

ROUTES = [
    ("GET", "/api/v1/operator/queue"),
    ("GET", "/api/v1/operator/throughput"),
    ("GET", "/api/v1/operator/merchants"),
    ("GET", "/api/v1/operator/dead_letters"),
    ("POST", "/api/v1/operator/dead_letters/replay"),
]


@pytest.fixture
def operator_key() -> str:
    with db.transaction() as conn:
        return operator_keys.create_operator_key(conn, "e2e operator").operator_key


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_operator_routes_refuse_merchant_keys_and_unknown_keys(
    live_server, merchant, method: str, path: str
) -> None:
    with live_server.client(merchant.api_key) as client:
        refused = client.request(method, path)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {
            "type": "permission_error",
            "code": "operator_key_required",
            "message": "This route needs an operator key; a merchant key cannot call it.",
        }
    }
    with live_server.client() as client:
        assert client.request(method, path).json()["error"]["code"] == "api_key_missing"
    with live_server.client("ok_test_" + "x" * 43) as client:
        assert client.request(method, path).status_code == 401
    with live_server.client("sk_test_" + "x" * 43) as client:
        assert client.request(method, path).status_code == 401


def test_operator_key_is_refused_on_merchant_routes(live_server, operator_key) -> None:
    with live_server.client(operator_key) as client:
        for method, path in (("GET", "/api/v1/payments"), ("POST", "/api/v1/webhook_endpoints")):
            refused = client.request(method, path)
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "merchant_key_required"


def test_queue_throughput_and_merchant_volume(live_server, operator_key, api, merchant) -> None:
    create_payment(api, amount=1234, vpa="success@upi")
    with live_server.client(operator_key) as client:
        queue = client.get("/api/v1/operator/queue").json()
        assert queue["object"] == "queue_metrics"
        assert queue["length"] >= 1  # nothing drains in this test's server
        assert {
            "pending",
            "oldest_pending_age_s",
            "lag_s",
            "retry_scheduled",
            "dead_letters",
            "unknown_outcomes",
            "flagged_unknown_outcomes",
            "orphan_charges_open",
            "orphan_charges_reversed",
        } <= set(queue)
        throughput = client.get("/api/v1/operator/throughput", params={"minutes": 5}).json()
        assert throughput["interval_s"] == 60 and len(throughput["data"]) == 5
        assert throughput["data"][-1]["accepted"] >= 1
        volume = client.get("/api/v1/operator/merchants", params={"limit": 100}).json()
        mine = [m for m in volume["data"] if m["merchant_id"] == merchant.merchant_id]
        assert mine and mine[0]["payments"] == 1 and mine[0]["success_rate"] is None
        bad = client.get("/api/v1/operator/throughput", params={"minutes": 0})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "minutes"
        unknown = client.get("/api/v1/operator/queue", params={"x": 1})
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "parameter_unknown"


def test_replay_validates_ids_and_replays_nothing_unknown(live_server, operator_key) -> None:
    with live_server.client(operator_key) as client:
        bad = client.post("/api/v1/operator/dead_letters/replay", json={"ids": ["not-an-id"]})
        assert bad.status_code == 400 and bad.json()["error"]["param"].startswith("ids")
        extra = client.post("/api/v1/operator/dead_letters/replay", json={"all": True})
        assert extra.json()["error"]["code"] == "parameter_unknown"
        none = client.post("/api/v1/operator/dead_letters/replay", json={"ids": ["1-0"]})
        assert none.status_code == 200
        assert none.json() == {"object": "dead_letter_replay", "replayed": 0, "removed": 0}


def test_create_operator_key_cli_prints_a_key_that_works(live_server) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "workers.admin", "create-operator-key", "--name", "cli"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    created = json.loads(out.stdout)
    assert created["operator_id"].startswith("op_")
    assert created["operator_key"].startswith("ok_test_")
    with live_server.client(created["operator_key"]) as client:
        assert client.get("/api/v1/operator/queue").status_code == 200
    with db.connection() as conn:
        stored = conn.execute(
            "SELECT key_hash, key_prefix FROM operator_keys WHERE operator_id = %s",
            (created["operator_id"],),
        ).fetchone()
    assert created["operator_key"] not in stored.values()  # only its hash and prefix
    assert stored["key_prefix"] == created["operator_key"][:12]
