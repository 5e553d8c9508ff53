"""Refunds over HTTP: creation rules, reads, lists, the batch processor, concurrency."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import db
from tests.e2e.helpers import create_payment, successful_payment, unique

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def refund(api, payment_id, body=None, **kwargs):
    if body is None:
        return api.post(f"/api/v1/payments/{payment_id}/refunds", **kwargs)
    return api.post(f"/api/v1/payments/{payment_id}/refunds", json=body, **kwargs)


def assert_error(response, status, code, param=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    if param is not None:
        assert error.get("param") == param, error
    return error


def test_partial_refund_is_accepted_then_succeeds(api, merchant, run_processor):
    payment = successful_payment(api, run_processor, 10_000)
    response = refund(api, payment["id"], {"amount": 2500, "reason": "damaged"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["id"].startswith("re_")
    assert body["object"] == "refund"
    assert body["payment_id"] == payment["id"]
    assert body["amount"] == 2500
    assert body["currency"] == "INR"
    assert body["status"] == "PENDING"
    assert body["reason"] == "damaged"
    assert body["failure_code"] is None
    assert ISO_Z.match(body["created_at"]) and ISO_Z.match(body["updated_at"])
    assert set(body) == {
        "id", "object", "payment_id", "amount", "currency", "status", "reason",
        "failure_code", "created_at", "updated_at",
    }  # fmt: skip
    assert response.headers["Location"] == f"/api/v1/refunds/{body['id']}"
    # Not refunded until the processor has done it.
    assert api.get(f"/api/v1/payments/{payment['id']}").json()["amount_refunded"] == 0

    summary = run_processor()
    assert summary["refunds_succeeded"] >= 1
    done = api.get(f"/api/v1/refunds/{body['id']}").json()
    assert done["status"] == "SUCCESS"
    after = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert after["amount_refunded"] == 2500
    assert after["status"] == "SUCCESS"

    with db.connection() as conn:
        events = conn.execute(
            "SELECT type, data FROM events WHERE merchant_id = %s AND data->>'id' = %s",
            (merchant.merchant_id, body["id"]),
        ).fetchall()
    assert [e["type"] for e in events] == ["refund.succeeded"]
    assert events[0]["data"]["status"] == "SUCCESS"


def test_empty_body_refunds_everything_left(api, run_processor):
    payment = successful_payment(api, run_processor, 7_000)
    first = refund(api, payment["id"], {"amount": 3000})
    assert first.status_code == 202
    # No body at all, no Content-Type: a full refund of what is left.
    rest = api.post(f"/api/v1/payments/{payment['id']}/refunds")
    assert rest.status_code == 202, rest.text
    assert rest.json()["amount"] == 4000
    assert rest.json()["reason"] is None
    # `{}` is the same thing; nothing is left now: the payment's state, not the request,
    # is wrong, so 409 (issue 24: a schema-valid `{}` is not a 400).
    assert_error(refund(api, payment["id"], {}), 409, "payment_already_refunded")
    assert_error(refund(api, payment["id"], {"amount": 1}), 409, "payment_already_refunded")
    run_processor()
    after = api.get(f"/api/v1/payments/{payment['id']}").json()
    assert after["amount_refunded"] == 7000
    # Still nothing left once they succeeded.
    assert_error(
        api.post(f"/api/v1/payments/{payment['id']}/refunds"), 409, "payment_already_refunded"
    )


def test_amount_over_what_is_left_is_too_large(api, run_processor):
    payment = successful_payment(api, run_processor, 5_000)
    assert_error(refund(api, payment["id"], {"amount": 5001}), 400, "amount_too_large", "amount")
    assert refund(api, payment["id"], {"amount": 5000}).status_code == 202


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"amount": 0}, "parameter_invalid", "amount"),
        ({"amount": -1}, "parameter_invalid", "amount"),
        ({"amount": 10.0}, "parameter_invalid", "amount"),
        ({"amount": 10.5}, "parameter_invalid", "amount"),
        ({"amount": "100"}, "parameter_invalid", "amount"),
        ({"amount": True}, "parameter_invalid", "amount"),
        ({"amount": [100]}, "parameter_invalid", "amount"),
        ({"amount": 100_000_000_000}, "parameter_invalid", "amount"),
        ({"amount": 100, "currency": "INR"}, "parameter_unknown", "currency"),
        ({"reason": "x" * 256}, "parameter_invalid", "reason"),
        ({"reason": 5}, "parameter_invalid", "reason"),
    ],
)
def test_bad_refund_bodies(api, run_processor, body, code, param):
    payment = successful_payment(api, run_processor, 1_000)
    assert_error(refund(api, payment["id"], body), 400, code, param)
    # Nothing was reserved by a rejected request: a full refund still gets everything.
    full = refund(api, payment["id"], {})
    assert full.status_code == 202 and full.json()["amount"] == 1000


def test_bad_refund_payloads_that_are_not_objects(api, run_processor):
    payment = successful_payment(api, run_processor, 1_000)
    url = f"/api/v1/payments/{payment['id']}/refunds"
    headers = {"Content-Type": "application/json"}
    assert_error(api.post(url, content=b"[1]", headers=headers), 400, "invalid_json")
    assert_error(api.post(url, content=b"{", headers=headers), 400, "invalid_json")
    assert_error(api.post(url, content=b"NaN", headers=headers), 400, "invalid_json")
    assert_error(
        api.post(url, content=b"{}", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    assert_error(
        api.post(url, content=b'{"reason": "' + b"x" * 20_000 + b'"}', headers=headers),
        413,
        "body_too_large",
    )
    assert_error(
        api.post(url, content=b'{"amount": 1e2}', headers=headers), 400, "parameter_invalid"
    )


def test_reason_at_the_limit_is_accepted(api, run_processor):
    payment = successful_payment(api, run_processor, 1_000)
    response = refund(api, payment["id"], {"amount": 1, "reason": "r" * 255})
    assert response.status_code == 202 and response.json()["reason"] == "r" * 255


def test_only_success_payments_are_refundable(api, run_processor):
    pending = create_payment(api, 1_000)
    assert_error(refund(api, pending["id"], {"amount": 1}), 409, "payment_not_refundable")
    assert_error(refund(api, pending["id"]), 409, "payment_not_refundable")
    failed = create_payment(api, 1_000, vpa="failure@upi")
    cancelled = create_payment(api, 1_000)
    assert api.post(f"/api/v1/payments/{cancelled['id']}/cancel").status_code == 200
    run_processor()
    assert api.get(f"/api/v1/payments/{failed['id']}").json()["status"] == "FAILED"
    assert_error(refund(api, failed["id"], {"amount": 1}), 409, "payment_not_refundable")
    assert_error(refund(api, cancelled["id"], {}), 409, "payment_not_refundable")


def test_other_merchants_and_unknown_ids_are_404(api, live_server, other_merchant, run_processor):
    payment = successful_payment(api, run_processor, 1_000)
    mine = refund(api, payment["id"], {"amount": 100}).json()
    with live_server.client(other_merchant.api_key) as other:
        assert_error(refund(other, payment["id"], {"amount": 1}), 404, "resource_missing")
        listed = other.get(f"/api/v1/payments/{payment['id']}/refunds")
        assert_error(listed, 404, "resource_missing")
        assert_error(other.get(f"/api/v1/refunds/{mine['id']}"), 404, "resource_missing")
    for unknown in ("pay_doesnotexist000000000000", "nope", "re_" + "x" * 30):
        assert_error(refund(api, unknown, {"amount": 1}), 404, "resource_missing")
        assert_error(api.get(f"/api/v1/payments/{unknown}/refunds"), 404, "resource_missing")
    for unknown in ("re_doesnotexist00000000000000", "pay_x", payment["id"]):
        assert_error(api.get(f"/api/v1/refunds/{unknown}"), 404, "resource_missing")
    # The other merchant's attempt reserved nothing.
    assert refund(api, payment["id"], {}).json()["amount"] == 900


def test_list_refunds_newest_first_with_pagination(api, run_processor):
    payment = successful_payment(api, run_processor, 10_000)
    created = [refund(api, payment["id"], {"amount": 100 + i}).json()["id"] for i in range(5)]
    url = f"/api/v1/payments/{payment['id']}/refunds"
    everything = api.get(url).json()
    assert everything["object"] == "list"
    assert [r["id"] for r in everything["data"]] == created[::-1]
    assert everything["has_more"] is False

    first = api.get(url, params={"limit": 2}).json()
    assert [r["id"] for r in first["data"]] == created[::-1][:2] and first["has_more"] is True
    second = api.get(url, params={"limit": 2, "starting_after": first["data"][-1]["id"]}).json()
    assert [r["id"] for r in second["data"]] == created[::-1][2:4]
    assert second["has_more"] is True
    third = api.get(url, params={"limit": 2, "starting_after": second["data"][-1]["id"]}).json()
    assert [r["id"] for r in third["data"]] == created[:1] and third["has_more"] is False

    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "x"}):
        assert_error(api.get(url, params=bad), 400, "parameter_invalid", "limit")
    assert_error(api.get(url, params={"colour": "red"}), 400, "parameter_unknown", "colour")
    assert_error(api.get(url, params={"starting_after": "re_unknown0000000000"}), 400,
                 "parameter_invalid", "starting_after")  # fmt: skip


def test_concurrent_partial_refunds_never_exceed_the_amount(live_server, merchant, run_processor):
    with live_server.client(merchant.api_key) as api:
        payment = successful_payment(api, run_processor, 10_000)

    def one(_: int):
        with live_server.client(merchant.api_key) as client:
            return refund(client, payment["id"], {"amount": 700})

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    accepted = [a for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code != 202]
    assert len(accepted) == 14  # 14 * 700 = 9800 <= 10000 < 15 * 700
    for answer in refused:
        assert_error(answer, 400, "amount_too_large", "amount")
    with db.connection() as conn:
        row = conn.execute(
            "SELECT p.amount, p.amount_refund_reserved,"
            " (SELECT coalesce(sum(amount), 0) FROM refunds r WHERE r.payment_id = p.id"
            "  AND r.status IN ('PENDING', 'PROCESSING', 'SUCCESS')) AS active"
            " FROM payments p WHERE p.id = %s",
            (payment["id"],),
        ).fetchone()
    assert row["active"] == row["amount_refund_reserved"] == 9800 <= row["amount"]

    run_processor()
    with live_server.client(merchant.api_key) as api:
        after = api.get(f"/api/v1/payments/{payment['id']}").json()
        assert after["amount_refunded"] == 9800
        listed = api.get(f"/api/v1/payments/{payment['id']}/refunds", params={"limit": 100})
        assert {r["status"] for r in listed.json()["data"]} == {"SUCCESS"}
        assert len(listed.json()["data"]) == 14


def test_concurrent_full_refunds_admit_exactly_one(live_server, merchant, run_processor):
    with live_server.client(merchant.api_key) as api:
        payment = successful_payment(api, run_processor, 3_333)

    def one(_: int):
        with live_server.client(merchant.api_key) as client:
            return client.post(f"/api/v1/payments/{payment['id']}/refunds")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(one, range(20)))
    assert sorted(a.status_code for a in answers) == [202] + [409] * 19  # nothing left
    assert [a.json()["amount"] for a in answers if a.status_code == 202] == [3333]


def test_refund_is_idempotent_per_key(api, run_processor):
    payment = successful_payment(api, run_processor, 1_000)
    key = {"Idempotency-Key": unique("key")}
    first = refund(api, payment["id"], {"amount": 400}, headers=key)
    again = refund(api, payment["id"], {"amount": 400}, headers=key)
    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.get(f"/api/v1/payments/{payment['id']}/refunds").json()["data"]
    assert [r["id"] for r in listed] == [first.json()["id"]]
    # Same key, same body, another payment: a different request.
    other = successful_payment(api, run_processor, 1_000)
    assert_error(refund(api, other["id"], {"amount": 400}, headers=key), 400,
                 "idempotency_key_reused")  # fmt: skip
