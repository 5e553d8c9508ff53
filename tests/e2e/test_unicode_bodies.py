"""Issue 24, item 3: a lone surrogate in a JSON body is a 400 naming the field, on every
POST route, never a 500 (Postgres cannot store a string that is not Unicode)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from chalicelib import db
from chalicelib.api.endpoint import ROUTES
from chalicelib.services import operator_keys
from tests.e2e.test_bad_input import a_payment, rows_of
from tests.support import LiveServer

LONE = "\\ud800"  # as it travels in JSON text: an escape, half of a pair

# (path template, raw JSON body with one lone surrogate, the param the error names)
CASES = [
    (
        "/api/v1/payments",
        '{"amount": 50000, "currency": "INR", "method": "upi", "order_id": "o1",'
        ' "metadata": {"' + LONE + '": "x"}}',
        "metadata.\\ud800",
    ),
    (
        "/api/v1/payments",
        '{"amount": 50000, "currency": "INR", "method": "upi", "order_id": "o1",'
        ' "metadata": {"k": "v' + LONE + '"}}',
        "metadata.k",
    ),
    ("/api/v1/payments", '{"order_id": "o' + LONE + 'x"}', "order_id"),
    ("/api/v1/payments/{payment}/cancel", '{"' + LONE + '": 1}', "\\ud800"),
    ("/api/v1/payments/{payment}/capture", '{"' + LONE + '": 1}', "\\ud800"),
    ("/api/v1/payments/{payment}/refunds", '{"reason": "r' + LONE + '"}', "reason"),
    ("/api/v1/webhook_endpoints", '{"url": "http://127.0.0.1:9/' + LONE + '"}', "url"),
    (
        "/api/v1/webhook_endpoints",
        '{"url": "http://127.0.0.1:9/", "events": ["' + LONE + '"]}',
        "events",
    ),
    ("/api/v1/webhook_endpoints/we_nosuchendpoint/rotate_secret", '{"a\\udfff": 1}', "a\\udfff"),
    ("/api/v1/events/evt_nosuchevent/redeliver", '{"x": ["' + LONE + '"]}', "x"),
    ("/api/v1/operator/dead_letters/replay", '{"ids": ["' + LONE + '"]}', "ids"),
    (
        "/api/v1/payment_links",
        '{"amount": 100, "currency": "INR", "description": "d' + LONE + '"}',
        "description",
    ),
    ("/api/v1/payment_links/plink_nosuchlink/deactivate", '{"' + LONE + '": 1}', "\\ud800"),
    ("/pay/plink_nosuchlink/confirm", '{"vpa": "a' + LONE + '@upi"}', "vpa"),
]


@pytest.fixture(scope="module")
def operator_key() -> str:
    with db.transaction() as conn:
        return operator_keys.create_operator_key(conn, "unicode tests").operator_key


def test_every_post_route_is_covered() -> None:
    posts = {route.path for route in ROUTES if route.method == "POST"}
    covered = {path.replace("{payment}", "{payment_id}") for path, _, _ in CASES}
    named = {
        p.replace("we_nosuchendpoint", "{endpoint_id}")
        .replace("evt_nosuchevent", "{event_id}")
        .replace("plink_nosuchlink", "{link_id}")
        for p in covered
    }
    assert posts <= named, posts - named


@pytest.mark.parametrize(("template", "body", "param"), CASES)
def test_a_lone_surrogate_is_400_naming_the_field(
    live_server: LiveServer, merchant, operator_key: str, template: str, body: str, param: str
) -> None:
    path = template.replace("{payment}", a_payment(merchant.merchant_id))
    key = operator_key if "/operator/" in path else merchant.api_key
    before = rows_of(merchant.merchant_id)
    with live_server.client(key) as client:
        response = client.post(
            path,
            content=body.encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
        )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error.get("param")) == ("parameter_invalid", param), error
    assert rows_of(merchant.merchant_id) == before


def test_a_surrogate_pair_is_one_character_and_accepted(api: httpx.Client) -> None:
    body = (
        '{"amount": 50000, "currency": "INR", "method": "upi", "order_id": "o_'
        + uuid.uuid4().hex[:10]
        + '", "metadata": {"emoji": "\\ud83d\\ude00"}}'
    )
    response = api.post(
        "/api/v1/payments", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["metadata"] == {"emoji": "\U0001f600"}
