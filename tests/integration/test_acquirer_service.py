"""The acquirer service as a process: replay, inquiry, refund limits, settlement, restart.

Plain HTTP against a dedicated `python -m infra.acquirer` (its own port and books).
"""

from __future__ import annotations

import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from tests.integration.acquirer_process import AcquirerProcess


def _key() -> str:
    return f"pay_{uuid.uuid4().hex}"


def _charge(client: httpx.Client, key: str, amount: int = 1000, **extra: str) -> httpx.Response:
    body = {"payment_id": key, "amount": amount, "currency": "INR", "method": "upi", **extra}
    headers = {"Idempotency-Key": key}
    if "fault" in body:
        headers["Acquirer-Fault"] = body.pop("fault")
    return client.post("/v1/authorizations", json=body, headers=headers)


def _refund(client: httpx.Client, charge_key: str, amount: int, key: str | None = None):  # type: ignore[no-untyped-def]
    key = key or f"rf_{uuid.uuid4().hex}"
    body = {"charge_key": charge_key, "refund_id": key, "amount": amount, "currency": "INR"}
    return client.post("/v1/refunds", json=body, headers={"Idempotency-Key": key})


def test_replay_same_body_answers_the_same_and_charges_once(
    client: httpx.Client, acquirer: AcquirerProcess
) -> None:
    key = _key()
    first = _charge(client, key)
    again = _charge(client, key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert first.json()["status"] == "succeeded"
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(acquirer.charges_for(key)) == 1

    other = _charge(client, key, amount=1001)
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert [c["amount"] for c in acquirer.charges_for(key)] == [1000]


def test_concurrent_calls_with_one_key_charge_once(
    client: httpx.Client, acquirer: AcquirerProcess
) -> None:
    key = _key()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: _charge(client, key, fault="latency=20/200"), range(16)))
    # The first call records the key; a call that comes while it still runs is told so
    # (409 request_in_progress, as Stripe answers), and every later one gets the replay.
    assert {a.status_code for a in answers} <= {200, 409}
    assert 200 in {a.status_code for a in answers}
    busy = [a for a in answers if a.status_code == 409]
    assert all(a.json()["error"]["code"] == "request_in_progress" for a in busy)
    assert len({a.json()["id"] for a in answers if a.status_code == 200}) == 1
    assert len(acquirer.charges_for(key)) == 1


def test_inquiry_finds_what_was_done_and_404_otherwise(client: httpx.Client) -> None:
    key = _key()
    missing = client.get(f"/v1/authorizations/{key}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    charged = _charge(client, key).json()
    found = client.get(f"/v1/authorizations/{key}")
    assert found.status_code == 200
    assert found.json()["id"] == charged["id"] and found.json()["status"] == "succeeded"
    refund_key = f"rf_{uuid.uuid4().hex}"
    assert client.get(f"/v1/refunds/{refund_key}").status_code == 404
    _refund(client, key, 10, refund_key)
    assert client.get(f"/v1/refunds/{refund_key}").json()["status"] == "succeeded"


def test_refunds_never_exceed_the_capture(client: httpx.Client, acquirer: AcquirerProcess) -> None:
    key = _key()
    _charge(client, key, amount=1000)
    first = _refund(client, key, 600)
    assert first.json()["status"] == "succeeded"
    replay = _refund(client, key, 600, first.json()["idempotency_key"])
    assert replay.headers["Idempotent-Replayed"] == "true"
    over = _refund(client, key, 401)
    assert over.json()["status"] == "declined"
    assert over.json()["decline_code"] == "refund_exceeds_capture"
    rest = _refund(client, key, 400)
    assert rest.json()["status"] == "succeeded"
    assert _refund(client, key, 1).json()["decline_code"] == "refund_exceeds_capture"
    assert acquirer.charges_for(key)[0]["amount_refunded"] == 1000
    # Concurrent refunds racing for what is left: at most the capture in total.
    key2 = _key()
    _charge(client, key2, amount=1000)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _refund(client, key2, 300).json(), range(8)))
    assert sum(a["status"] == "succeeded" for a in answers) == 3
    assert acquirer.charges_for(key2)[0]["amount_refunded"] == 900
    assert acquirer.books()["charges_with_inconsistent_refunds"] == 0
    never = _refund(client, _key(), 10).json()
    assert (never["status"], never["decline_code"]) == ("declined", "charge_not_captured")


def test_settlement_lists_the_days_captures_and_refunds(client: httpx.Client) -> None:
    key, declined = _key(), _key()
    _charge(client, key, amount=4321)
    _charge(client, declined, amount=5, vpa="failure@upi")
    refund = _refund(client, key, 321).json()
    today = datetime.now(UTC).date()
    report = client.get(f"/v1/settlements/{today.isoformat()}.csv")
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert list(rows[0]) == [
        "type", "id", "idempotency_key", "payment_id", "refund_id", "amount", "currency",
        "created_at",
    ]  # fmt: skip
    mine = [r for r in rows if r["payment_id"] == key]
    assert [(r["type"], r["amount"], r["currency"]) for r in mine] == [
        ("capture", "4321", "INR"),
        ("refund", "321", "INR"),
    ]
    assert mine[1]["id"] == refund["id"] and mine[1]["refund_id"] == refund["refund_id"]
    assert all(datetime.fromisoformat(r["created_at"]).date() == today for r in mine)
    assert not [r for r in rows if r["payment_id"] == declined]  # nothing moved
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert not [r for r in csv.DictReader(io.StringIO(
        client.get(f"/v1/settlements/{tomorrow}.csv").text)) if r["payment_id"] == key]  # fmt: skip
    bad = client.get("/v1/settlements/2026-13-01.csv")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "day"


def test_test_mode_scenarios_as_in_the_api(client: httpx.Client) -> None:
    assert _charge(client, _key(), vpa="failure@upi").json()["decline_code"] == "payment_declined"
    flaky = _key()
    first = _charge(client, flaky, vpa="flaky@upi")
    assert first.status_code == 503 and first.json()["error"]["processed"] is False
    assert client.get(f"/v1/authorizations/{flaky}").status_code == 404  # nothing recorded
    assert _charge(client, flaky, vpa="flaky@upi").json()["status"] == "succeeded"
    down = _key()
    for _ in range(3):
        assert _charge(client, down, vpa="down@upi").status_code == 503
    card = {"number": "4000000000009995", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    token = client.post("/v1/tokens", json=card, headers={"Idempotency-Key": _key()}).json()
    assert token["last4"] == "9995" and "number" not in token and "cvc" not in token
    answer = _charge(client, _key(), method="card", token=token["token"]).json()
    assert answer["decline_code"] == "insufficient_funds"
    unknown_token = _charge(client, _key(), method="card", token="tok_nope")
    assert unknown_token.status_code == 400 and unknown_token.json()["error"]["param"] == "token"


def test_bad_input_gets_a_clear_error(client: httpx.Client, acquirer: AcquirerProcess) -> None:
    no_key = client.post("/v1/authorizations", json={"payment_id": "p"})
    assert no_key.status_code == 400
    assert no_key.json()["error"]["code"] == "idempotency_key_required"
    bad = client.post(
        "/v1/authorizations",
        json={"payment_id": "p", "amount": -1, "currency": "INR", "method": "upi"},
        headers={"Idempotency-Key": _key()},
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "amount"
    assert _charge(client, _key(), fault="explode").status_code == 400
    assert acquirer.admin.put("/admin/faults", json={"rates": {"hang": 2}}).status_code == 400
    assert acquirer.admin.post("/admin/down", json={"seconds": -1}).status_code == 400


def test_a_restart_keeps_the_books(client: httpx.Client, acquirer: AcquirerProcess) -> None:
    key = _key()
    charged = _charge(client, key, amount=777).json()
    _refund(client, key, 77)
    acquirer.restart()
    with httpx.Client(base_url=acquirer.url, timeout=30) as fresh:
        found = fresh.get(f"/v1/authorizations/{key}").json()
        assert found["id"] == charged["id"] and found["amount_refunded"] == 77
        replay = _charge(fresh, key, amount=777)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == charged["id"]
    assert len(acquirer.charges_for(key)) == 1
