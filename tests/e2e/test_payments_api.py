"""POST/GET /api/v1/payments over HTTP, exactly as docs/api.md says."""

from __future__ import annotations

import json
import re
import uuid

import httpx

from chalicelib import db

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def new_order() -> str:
    return f"order_{uuid.uuid4().hex[:12]}"


def create(api: httpx.Client, **fields: object) -> httpx.Response:
    body = {"order_id": new_order(), "amount": 50000, "currency": "INR", "method": "upi"}
    body.update(fields)
    return api.post("/api/v1/payments", json=body)


def count_rows(sql: str, *params: object) -> int:
    with db.connection() as conn:
        row = conn.execute(sql, params).fetchone()
    return int(next(iter(row.values())))


def test_create_answers_202_with_the_payment_location_and_message(api: httpx.Client) -> None:
    order = new_order()
    response = api.post(
        "/api/v1/payments",
        json={
            "order_id": order,
            "amount": 50000,
            "currency": "inr",
            "method": "upi",
            "vpa": "success@upi",
            "description": "Tea",
            "metadata": {"color": "green"},
        },
    )
    assert response.status_code == 202
    payment = response.json()
    assert payment["id"].startswith("pay_")
    assert response.headers["location"] == f"/api/v1/payments/{payment['id']}"
    assert payment["message"] == "Payment initiated successfully"
    assert payment["object"] == "payment"
    assert payment["status"] == "PENDING"
    assert payment["currency"] == "INR"
    assert payment["order_id"] == order
    assert payment["metadata"] == {"color": "green"}
    assert payment["amount_refunded"] == 0
    assert payment["attempts"] == 0
    assert payment["next_attempt_at"] is None
    assert payment["card"] is None and payment["bank"] is None and payment["wallet"] is None
    assert TS.match(payment["created_at"]) and TS.match(payment["updated_at"])
    assert set(payment) == {
        "id",
        "object",
        "order_id",
        "amount",
        "currency",
        "method",
        "status",
        "vpa",
        "card",
        "bank",
        "wallet",
        "description",
        "metadata",
        "amount_refunded",
        "capture_method",
        "amount_capturable",
        "amount_captured",
        "capture_before",
        "cancellation_reason",
        "attempts",
        "next_attempt_at",
        "failure_code",
        "failure_message",
        "connector",
        "outcome_unknown_since",
        "payment_link_id",
        "created_at",
        "updated_at",
        "message",
    }
    assert response.headers["request-id"]


def test_created_payment_is_committed_and_on_the_stream(api: httpx.Client) -> None:
    from chalicelib import redis_keys as keys
    from chalicelib.adapters.redis_client import get_redis

    payment = create(api).json()
    assert count_rows("SELECT count(*) FROM payments WHERE id = %s", payment["id"]) == 1
    assert (
        count_rows("SELECT count(*) FROM payment_history WHERE payment_id = %s", payment["id"]) == 1
    )
    entries = get_redis().xrange(keys.PAYMENTS_STREAM)
    assert any(fields.get("id") == payment["id"] for _, fields in entries) or count_rows(
        "SELECT count(*) FROM payments WHERE id = %s AND status <> 'PENDING'", payment["id"]
    )


def test_get_returns_the_same_object_without_message(api: httpx.Client) -> None:
    created = create(api, vpa="success@upi").json()
    fetched = api.get(f"/api/v1/payments/{created['id']}")
    assert fetched.status_code == 200
    created.pop("message")
    assert fetched.json() == created


def test_card_is_summarised_never_returned_or_stored(api: httpx.Client) -> None:
    response = create(
        api,
        method="card",
        card={"number": "5555555555554444", "exp_month": 12, "exp_year": 2099, "cvc": "987"},
    )
    assert response.status_code == 202
    assert response.json()["card"] == {
        "brand": "mastercard",
        "last4": "4444",
        "exp_month": 12,
        "exp_year": 2099,
    }
    assert "5555555555554444" not in response.text and "987" not in response.text
    with db.connection() as conn:
        row = conn.execute(
            "SELECT p.*::text AS t FROM payments p WHERE id = %s", (response.json()["id"],)
        ).fetchone()
    assert "5555555555554444" not in row["t"] and '"987"' not in row["t"]


def test_other_methods_keep_their_details(api: httpx.Client) -> None:
    assert create(api, method="netbanking", bank="HDFC").json()["bank"] == "HDFC"
    assert create(api, method="wallet", wallet="paytm").json()["wallet"] == "paytm"


def test_another_merchants_payment_is_404_like_a_missing_one(
    live_server, api: httpx.Client, other_merchant
) -> None:
    payment = create(api).json()
    with live_server.client(other_merchant.api_key) as other:
        theirs = other.get(f"/api/v1/payments/{payment['id']}")
        missing = other.get("/api/v1/payments/pay_doesnotexist000000000000")
        listed = other.get("/api/v1/payments").json()
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"]["code"] == missing.json()["error"]["code"] == "resource_missing"
    assert theirs.json()["error"]["type"] == "invalid_request_error"
    assert payment["id"] not in [p["id"] for p in listed["data"]]


def test_unprefixed_or_odd_ids_are_404(api: httpx.Client) -> None:
    for bad in ["123", "re_abc", "pay_", "pay_%27%3B--"]:
        response = api.get(f"/api/v1/payments/{bad}")
        assert response.status_code == 404, bad
        assert response.json()["error"]["code"] == "resource_missing"


def test_list_is_newest_first_with_cursor_pagination(api: httpx.Client) -> None:
    made = [create(api).json()["id"] for _ in range(5)]
    first = api.get("/api/v1/payments", params={"limit": 2}).json()
    assert first["object"] == "list"
    assert [p["id"] for p in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    second = api.get(
        "/api/v1/payments", params={"limit": 2, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [p["id"] for p in second["data"]] == made[::-1][2:4]
    last = api.get("/api/v1/payments", params={"limit": 100, "starting_after": made[1]}).json()
    assert [p["id"] for p in last["data"]] == [made[0]]
    assert last["has_more"] is False
    default = api.get("/api/v1/payments").json()
    assert len(default["data"]) == 5


def test_list_filters_by_status_and_order(api: httpx.Client) -> None:
    order = new_order()
    target = create(api, order_id=order).json()
    create(api)
    by_order = api.get("/api/v1/payments", params={"order_id": order}).json()
    assert [p["id"] for p in by_order["data"]] == [target["id"]]
    cancelled = api.post(f"/api/v1/payments/{target['id']}/cancel")
    assert cancelled.status_code == 200
    by_status = api.get("/api/v1/payments", params={"status": "CANCELLED"}).json()
    assert [p["id"] for p in by_status["data"]] == [target["id"]]


def test_list_rejects_bad_query_parameters(api: httpx.Client) -> None:
    cases = [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "DONE"}, "status"),
        ({"order_id": "bad id"}, "order_id"),
        ({"starting_after": "pay_nope"}, "starting_after"),
        ({"colour": "red"}, "colour"),
    ]
    for params, param in cases:
        response = api.get("/api/v1/payments", params=params)
        assert response.status_code == 400, params
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param, params


def test_one_active_payment_per_order(api: httpx.Client) -> None:
    order = new_order()
    first = create(api, order_id=order).json()
    second = create(api, order_id=order)
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "order_has_active_payment"
    assert error["payment_id"] == first["id"]
    assert api.post(f"/api/v1/payments/{first['id']}/cancel").status_code == 200
    third = create(api, order_id=order)
    assert third.status_code == 202


def test_same_order_id_for_two_merchants_is_independent(
    live_server, api: httpx.Client, other_merchant
) -> None:
    order = new_order()
    assert create(api, order_id=order).status_code == 202
    with live_server.client(other_merchant.api_key) as other:
        response = other.post(
            "/api/v1/payments",
            json={"order_id": order, "amount": 1, "currency": "USD", "method": "upi"},
        )
    assert response.status_code == 202


def test_cancel_only_from_pending(api: httpx.Client, run_processor) -> None:
    payment = create(api, vpa="success@upi").json()
    run_processor()
    response = api.post(f"/api/v1/payments/{payment['id']}/cancel")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_not_cancellable"
    assert api.post("/api/v1/payments/pay_nope/cancel").status_code == 404


def test_cancel_with_a_body_must_be_a_json_object(api: httpx.Client) -> None:
    payment = create(api).json()
    response = api.post(
        f"/api/v1/payments/{payment['id']}/cancel",
        content=b"[]",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    response = api.post(f"/api/v1/payments/{payment['id']}/cancel", json={"reason": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameter_unknown"
    assert api.post(f"/api/v1/payments/{payment['id']}/cancel", json={}).status_code == 200


def test_history_starts_with_creation(api: httpx.Client) -> None:
    payment = create(api).json()
    history = api.get(f"/api/v1/payments/{payment['id']}/history").json()
    assert history["object"] == "list" and history["has_more"] is False
    assert history["data"] == [
        {
            "at": payment["created_at"],
            "from_status": None,
            "to_status": "PENDING",
            "attempt": None,
            "outcome": None,
            "failure_code": None,
            "latency_ms": None,
            "connector": None,
            "resolution": None,
        }
    ]
    assert api.get("/api/v1/payments/pay_nope/history").status_code == 404


def test_health_reports_each_dependency(live_server) -> None:
    response = httpx.get(f"{live_server.base_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}


def test_openapi_document_is_served_without_a_key(live_server) -> None:
    response = httpx.get(f"{live_server.base_url}/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/payments" in document["paths"]


def test_json_bodies_and_headers(api: httpx.Client) -> None:
    response = create(api)
    assert response.headers["content-type"] == "application/json"
    json.loads(response.text)
