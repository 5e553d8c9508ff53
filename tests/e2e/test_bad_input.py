"""Bad input over HTTP: the contract's error, and nothing written."""

from __future__ import annotations

import json
import socket
import uuid

import httpx
import pytest

from chalicelib import db

VALID = {"amount": 50000, "currency": "INR", "method": "upi"}


def payments_for(merchant_id: str) -> int:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM payments WHERE merchant_id = %s", (merchant_id,)
        ).fetchone()
    return int(row["n"])


def post_raw(api: httpx.Client, body: bytes, content_type: str | None = "application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return api.post("/api/v1/payments", content=body, headers=headers)


def assert_error(
    response: httpx.Response,
    status: int,
    code: str,
    param: str | None = None,
    type_: str = "invalid_request_error",
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == type_
    assert error["code"] == code
    assert error.get("param") == param
    assert error["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "invalid_json"),
        (b'{"amount": 1,}', "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'"text"', "invalid_json"),
        (b"null", "invalid_json"),
        (b'{"amount": NaN}', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
    ],
)
def test_malformed_bodies(api: httpx.Client, merchant, body: bytes, code: str) -> None:
    assert_error(post_raw(api, body), 400, code)
    assert payments_for(merchant.merchant_id) == 0


def test_empty_body_is_missing_parameters(api: httpx.Client, merchant) -> None:
    assert_error(post_raw(api, b"", None), 400, "parameter_missing", "order_id")
    assert_error(post_raw(api, b"{}"), 400, "parameter_missing", "order_id")
    assert payments_for(merchant.merchant_id) == 0


def test_huge_numbers_are_invalid_not_500(api: httpx.Client, merchant) -> None:
    body = (
        b'{"order_id": "o1", "amount": 123456789012345678901234567890, "currency": "INR",'
        b' "method": "upi"}'
    )
    assert_error(post_raw(api, body), 400, "parameter_invalid", "amount")
    body = b'{"order_id": "o1", "amount": 1e400, "currency": "INR", "method": "upi"}'
    assert post_raw(api, body).status_code == 400
    assert payments_for(merchant.merchant_id) == 0


@pytest.mark.parametrize("order_id", ["ordér_1", "order\u0000", "order\t1", "💳", "a\nb", " "])
def test_unicode_and_control_characters_in_order_id(
    api: httpx.Client, merchant, order_id: str
) -> None:
    response = api.post("/api/v1/payments", json={**VALID, "order_id": order_id})
    assert_error(response, 400, "parameter_invalid", "order_id")
    assert payments_for(merchant.merchant_id) == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_other_content_types_are_415(api: httpx.Client, merchant, content_type: str | None) -> None:
    body = json.dumps({**VALID, "order_id": "o1"}).encode()
    assert_error(post_raw(api, body, content_type), 415, "unsupported_media_type")
    assert payments_for(merchant.merchant_id) == 0


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png"])
def test_binary_bodies_are_415(api: httpx.Client, merchant, content_type: str) -> None:
    """Once Chalice's default binary types (the API declares none: app.py): bytes that are
    not UTF-8 are refused as any other media type, never decoded, nothing stored."""
    assert_error(
        post_raw(api, b"\x89PNG\r\n\x1a\n\xff\xfe", content_type), 415, "unsupported_media_type"
    )
    assert payments_for(merchant.merchant_id) == 0


def test_json_with_charset_is_fine(api: httpx.Client) -> None:
    body = json.dumps({**VALID, "order_id": f"o_{uuid.uuid4().hex[:8]}"}).encode()
    assert post_raw(api, body, "application/json; charset=utf-8").status_code == 202


def test_validation_errors_over_http(api: httpx.Client, merchant) -> None:
    cases = [
        ({"amount": 1.5}, 400, "parameter_invalid", "amount"),
        ({"amount": 100_000_000_000}, 400, "parameter_invalid", "amount"),
        ({"currency": "ZZZ"}, 400, "currency_not_supported", "currency"),
        (
            {
                "method": "card",
                "card": {
                    "number": "4242424242424241",
                    "exp_month": 1,
                    "exp_year": 2099,
                    "cvc": "123",
                },
            },
            400,
            "parameter_invalid",
            "card.number",
        ),
        (
            {
                "method": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 1,
                    "exp_year": 2001,
                    "cvc": "123",
                },
            },
            400,
            "parameter_invalid",
            "card.exp_year",
        ),
        ({"vpa": "x@y", "bank": "HDFC"}, 400, "parameter_invalid", "bank"),
        ({"metadata": {"color": 5}}, 400, "parameter_invalid", "metadata.color"),
        ({"extra": True}, 400, "parameter_unknown", "extra"),
    ]
    for change, status, code, param in cases:
        response = api.post("/api/v1/payments", json={**VALID, "order_id": "o1", **change})
        assert_error(response, status, code, param)
    assert payments_for(merchant.merchant_id) == 0


def test_authentication(live_server, merchant) -> None:
    body = {**VALID, "order_id": "o1"}
    with live_server.client() as anonymous:
        assert_error(
            anonymous.post("/api/v1/payments", json=body),
            401,
            "api_key_missing",
            type_="authentication_error",
        )
        assert_error(
            anonymous.get("/api/v1/payments"), 401, "api_key_missing", type_="authentication_error"
        )
    for header in [
        "Bearer sk_test_" + "x" * 43,
        "Bearer nonsense",
        "Basic abc",
        f"Bearer {merchant.api_key}x",
        "Bearer",
    ]:
        response = httpx.get(
            f"{live_server.base_url}/api/v1/payments", headers={"Authorization": header}
        )
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert merchant.api_key not in response.text
    assert payments_for(merchant.merchant_id) == 0


def test_unknown_route_does_not_echo_the_key(live_server, merchant) -> None:
    response = httpx.get(
        f"{live_server.base_url}/api/v1/nothing-here",
        headers={"Authorization": f"Bearer {merchant.api_key}"},
    )
    assert response.status_code == 403
    assert merchant.api_key not in response.text
    assert response.json()["error"]["code"] == "resource_missing"


def test_wrong_method_is_405_in_the_contract_format(api: httpx.Client) -> None:
    response = api.delete("/api/v1/payments")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/payments",
        "/api/v1/events",
        "/api/v1/webhook_endpoints",
        "/api/v1/payments/pay_0000000000000000000000000/refunds",
    ],
)
@pytest.mark.parametrize("cursor", ["evt_\x00x", "pay_a b", "x" * 70, "'; --"])
def test_every_list_refuses_a_malformed_cursor(api: httpx.Client, path: str, cursor: str) -> None:
    """A cursor is checked before any query: a NUL byte once reached Postgres as a 500."""
    response = api.get(path, params={"starting_after": cursor})
    assert_error(response, 400, "parameter_invalid", "starting_after")


# --------------------------------------------------------------------------- issue 11, item 6
def rows_of(merchant_id: str) -> dict[str, int]:
    """What a merchant has written: every table a POST can add to."""
    with db.connection() as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM payments WHERE merchant_id = %(m)s) AS payments,"
            " (SELECT count(*) FROM refunds WHERE merchant_id = %(m)s) AS refunds,"
            " (SELECT count(*) FROM webhook_endpoints WHERE merchant_id = %(m)s) AS endpoints,"
            " (SELECT count(*) FROM idempotency_keys WHERE merchant_id = %(m)s) AS keys",
            {"m": merchant_id},
        ).fetchone()
    return dict(row)


def a_payment(merchant_id: str) -> str:
    """A SUCCESS payment written directly, so refund bodies reach validation."""
    from chalicelib.ids import new_id

    payment_id = new_id("pay")
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO payments (id, merchant_id, order_id, amount, currency, method, status,"
            " created_at, updated_at) VALUES (%s, %s, %s, 5000, 'INR', 'upi', 'SUCCESS',"
            " now(), now())",
            (payment_id, merchant_id, f"o_{uuid.uuid4().hex[:12]}"),
        )
    return payment_id


NUL = "\u0000"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}
# (route, body with one NUL, the param the error names)
NUL_CASES = [
    ("payments", {**VALID, "order_id": f"o{NUL}1"}, "order_id"),
    ("payments", {**VALID, "order_id": "o1", "currency": f"IN{NUL}"}, "currency"),
    ("payments", {**VALID, "order_id": "o1", "method": f"upi{NUL}"}, "method"),
    ("payments", {**VALID, "order_id": "o1", "vpa": f"a{NUL}@upi"}, "vpa"),
    ("payments", {**VALID, "order_id": "o1", "description": f"d{NUL}"}, "description"),
    ("payments", {**VALID, "order_id": "o1", "metadata": {"k": f"v{NUL}"}}, "metadata.k"),
    ("payments", {**VALID, "order_id": "o1", "metadata": {f"k{NUL}": "v"}}, "metadata.k\\u0000"),
    (
        "payments",
        {**VALID, "order_id": "o1", "method": "card", "card": {**CARD, "cvc": f"12{NUL}"}},
        "card.cvc",
    ),
    ("payments", {**VALID, "order_id": "o1", "method": "netbanking", "bank": f"HD{NUL}"}, "bank"),
    ("refunds", {"reason": f"damaged{NUL}"}, "reason"),
    ("refunds", {"amount": 100, "reason": NUL}, "reason"),
    ("webhook_endpoints", {"url": f"http://127.0.0.1:9/{NUL}"}, "url"),
    (
        "webhook_endpoints",
        {"url": "http://127.0.0.1:9/", "events": [f"payment.failed{NUL}"]},
        "events",
    ),
]


def path_for(route: str, merchant_id: str) -> str:
    if route == "refunds":
        return f"/api/v1/payments/{a_payment(merchant_id)}/refunds"
    return f"/api/v1/{route}"


def post_json(api: httpx.Client, path: str, body: bytes, **headers: str) -> httpx.Response:
    return api.post(path, content=body, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize(("route", "body", "param"), NUL_CASES)
def test_a_nul_in_any_string_field_is_400_and_writes_nothing(
    api: httpx.Client, merchant, route: str, body: dict, param: str
) -> None:
    path = path_for(route, merchant.merchant_id)
    before = rows_of(merchant.merchant_id)
    raw = json.dumps(body).encode()
    assert b"\\u0000" in raw
    response = post_json(api, path, raw, **{"Idempotency-Key": uuid.uuid4().hex})
    assert_error(response, 400, "parameter_invalid", param)
    assert rows_of(merchant.merchant_id) == before


@pytest.mark.parametrize("route", ["payments", "refunds", "webhook_endpoints"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"metadata": ' + b"[" * 10_000,  # 10,000 deep and never closed
        b'{"metadata": ' + b"[" * 8_000 + b"]" * 8_000 + b"}",  # well formed, 8,000 deep
        b'{"metadata": ' + b'{"a": ' * 2_000 + b"1" + b"}" * 2_001,
    ],
    ids=["unclosed-10000", "closed-8000", "objects-2000"],
)
def test_json_nested_thousands_deep_is_400(
    api: httpx.Client, merchant, route: str, body: bytes
) -> None:
    assert len(body) <= 16_384  # so it is the depth that is refused, not the size
    path = path_for(route, merchant.merchant_id)
    before = rows_of(merchant.merchant_id)
    assert_error(post_json(api, path, body), 400, "invalid_json")
    assert rows_of(merchant.merchant_id) == before


def test_brackets_inside_strings_are_not_depth(api: httpx.Client) -> None:
    body = {**VALID, "order_id": f"o_{uuid.uuid4().hex[:8]}", "description": "[{" * 100}
    assert api.post("/api/v1/payments", json=body).status_code == 202


@pytest.mark.parametrize(
    ("route", "field"), [("payments", "amount"), ("refunds", "amount"), ("payments", "metadata")]
)
def test_a_5000_digit_number_is_400_naming_its_field(
    api: httpx.Client, merchant, route: str, field: str
) -> None:
    path = path_for(route, merchant.merchant_id)
    before = rows_of(merchant.merchant_id)
    digits = b"9" * 5_000
    if route == "payments":
        body = json.dumps({**VALID, "order_id": "o1", field: 0}).encode()
        body = body.replace(f'"{field}": 0'.encode(), f'"{field}": '.encode() + digits)
    else:
        body = b'{"amount": ' + digits + b"}"
    assert digits in body
    assert_error(post_json(api, path, body), 400, "parameter_invalid", field)
    assert rows_of(merchant.merchant_id) == before


def raw_post(base_url: str, api_key: str, key: bytes, body: bytes) -> tuple[int, dict | None]:
    """POST over a bare socket: httpx refuses to send control characters in a header.
    The body is None when the HTTP server refused the request itself (an empty body)."""
    host, port = base_url.removeprefix("http://").split(":")
    request = (
        b"POST /api/v1/payments HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
        b"Authorization: Bearer " + api_key.encode() + b"\r\n"
        b"Content-Type: application/json\r\nIdempotency-Key: " + key + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload) if payload else None


@pytest.mark.parametrize(
    "key", [b"key\x00nul", b"\x00", b"key\x01soh", b"key\x1bescape", b"key\x7fdel", b"key\ttab"]
)
def test_a_control_character_in_the_idempotency_key_is_400(live_server, merchant, key) -> None:
    body = json.dumps({**VALID, "order_id": f"o_{uuid.uuid4().hex[:8]}"}).encode()
    before = rows_of(merchant.merchant_id)
    status, answer = raw_post(live_server.base_url, merchant.api_key, key, body)
    assert status == 400, answer
    # granian refuses a control character other than a tab in any header value itself,
    # with an empty body (docs/api.md, "Statuses from the server"); the app refuses
    # what reaches it in the contract's format.
    assert answer is not None or key != b"key\ttab"
    if answer is not None:
        assert answer["error"]["type"] == "invalid_request_error"
        assert answer["error"]["code"] == "parameter_invalid"
        assert answer["error"]["param"] == "Idempotency-Key"
    assert rows_of(merchant.merchant_id) == before
    # The same request with a clean key is accepted: only the key was wrong.
    status, answer = raw_post(live_server.base_url, merchant.api_key, b"clean-key", body)
    assert status == 202, answer
