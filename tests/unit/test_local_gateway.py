"""The local server's gateway and answers are Chalice's: same route, same event, same bytes."""

from __future__ import annotations

import io
import re
import time
from http.server import BaseHTTPRequestHandler

import pytest
from chalice import local
from chalice.config import Config

import app as app_module
from workers import local_gateway
from workers.http_server import QuietRequestHandler

ROUTES = sorted(app_module.app.routes)


def _concrete(route: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, route)


def _targets() -> list[str]:
    targets = []
    for route in ROUTES:
        path = _concrete(route, "pay_0Vc4Pd1yVn2Pq1p8YJ8yQ3mT")
        targets += [
            path,
            path + "/",
            path + "?limit=5&status=SUCCESS&status=FAILED&empty=",
            path + "#fragment",
            path + ";params",
            "/" + path,  # a // target: urlparse reads a netloc
            path + "/extra",
        ]
    return [*targets, "/", "/nothing", "/api/v1/payments/a/b/c/d", "/api/v1/payments/%2F"]


@pytest.mark.parametrize("target", _targets())
def test_the_route_table_matches_as_chalice_does(target: str) -> None:
    chalice_matcher = local.RouteMatcher(list(app_module.app.routes))
    try:
        expected = chalice_matcher.match_route(target)
    except ValueError:
        with pytest.raises(ValueError):
            local_gateway.route_table(app_module.app).match_route(target)
        return
    got = local_gateway.route_table(app_module.app).match_route(target)
    assert (got.route, got.query_params) == (expected.route, expected.query_params)
    # The matched route's captures: what API Gateway gives (Chalice also keeps those of
    # routes tried first under the same name, with the same values).
    names = re.findall(r"\{([^}]+)\}", got.route)
    assert got.captured == {name: expected.captured[name] for name in names}


def test_the_event_is_chalices_with_the_callers_address() -> None:
    headers = {"Authorization": "Bearer sk_test_x", "Content-Type": "application/json"}
    body = b'{"order_id": "o1"}'
    chalice_converter = local.LambdaEventConverter(
        local.RouteMatcher(list(app_module.app.routes)), app_module.app.api.binary_types
    )
    ours = local_gateway.GatewayLocalGateway(app_module.app, local.Config()).event_converter
    for target in ("/api/v1/payments", "/api/v1/payments/pay_1/refunds?limit=2"):
        expected = chalice_converter.create_lambda_event("POST", target, dict(headers), body)
        local_gateway.set_peer_address("")
        assert ours.create_lambda_event("POST", target, dict(headers), body) == expected
        local_gateway.set_peer_address("10.1.2.3")
        event = ours.create_lambda_event("POST", target, dict(headers), body)
        identity = event["requestContext"]["identity"]
        assert identity["sourceIp"] == "10.1.2.3"
        identity["sourceIp"] = expected["requestContext"]["identity"]["sourceIp"]
        assert event == expected


@pytest.mark.parametrize("timeout_s", [None, 60])
def test_the_lambda_context_is_chalices(timeout_s: int | None) -> None:
    timeout = {} if timeout_s is None else {"lambda_timeout": timeout_s}
    config = Config.create(function_name="api_handler", lambda_memory_size=512, **timeout)
    expected = local.LocalGateway(app_module.app, config)._generate_lambda_context()
    got = local_gateway.GatewayLocalGateway(app_module.app, config)._generate_lambda_context()
    assert isinstance(got, local.LambdaContext)
    names = ("function_name", "function_version", "memory_limit_in_mb", "_max_runtime")
    assert [getattr(got, n) for n in names] == [getattr(expected, n) for n in names]
    assert got.aws_request_id != expected.aws_request_id  # one per request, as Chalice's
    assert got.aws_request_id == got.aws_request_id  # drawn once, when first read
    assert vars(got).keys() == vars(expected).keys()  # every attribute Chalice sets
    assert abs(got.get_remaining_time_in_millis() - expected.get_remaining_time_in_millis()) < 1000


class _Written:
    """A handler's output side only: what `_send_http_response` writes, and in how many writes."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.writes = 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        return self.buffer.write(data)


def _answer(handler_cls: type, version: str, body: str | bytes) -> tuple[bytes, int]:
    handler = handler_cls.__new__(handler_cls)
    handler.wfile = _Written()
    handler.request_version = version
    handler.requestline, handler.command = "POST /api/v1/payments HTTP/1.1", "POST"
    handler.close_connection = False
    headers = {"Content-Type": "application/json", "Location": "/x", "Vary": ["a", "b"]}
    handler._send_http_response(202, headers, body)
    return handler.wfile.buffer.getvalue(), handler.wfile.writes


FIXED_DATE = "Sun, 29 Nov 2026 03:00:00 GMT"


class _ChaliceHandler(local.ChaliceRequestHandler):
    """Chalice's own handler, with a fixed Date so that the bytes can be compared."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        return FIXED_DATE

    def log_message(self, format: str, *args: object) -> None:
        return


class _OurHandler(QuietRequestHandler):
    def date_time_string(self, timestamp: float | None = None) -> str:
        return FIXED_DATE


@pytest.mark.parametrize("body", ['{"id":"pay_1","amount":1000}', "é".encode(), b""])
@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0", "HTTP/0.9"])
def test_an_answer_is_chalices_bytes_in_one_write(version: str, body: str | bytes) -> None:
    expected, _ = _answer(_ChaliceHandler, version, body)
    got, writes = _answer(_OurHandler, version, body)
    assert got == expected
    assert writes == 1
    if version != "HTTP/0.9":
        assert got.startswith(b"HTTP/1.1 202 ") and FIXED_DATE.encode() in got


def test_the_date_header_is_the_stdlibs() -> None:
    handler = QuietRequestHandler.__new__(QuietRequestHandler)
    for _ in range(3):
        before = time.time()
        ours = handler.date_time_string()
        stdlib = BaseHTTPRequestHandler.date_time_string(handler)
        if int(before) == int(time.time()):  # not across a second's boundary
            assert ours == stdlib
            return
    raise AssertionError("three second boundaries in a row")
