"""The WSGI adapter (`workers.wsgi`): Chalice's event and answer, per-thread requests,
the caller's address, and a body over the limit refused unread. No I/O."""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice import Chalice, local
from chalice.config import Config

from workers.wsgi import ChaliceWSGI


def make_app(overlap: threading.Barrier | None = None) -> Chalice:
    """The test app; with `overlap`, each echo waits between its two reads of the request
    until another thread's echo is between its own (requests in pairs, at the same time)."""
    app = Chalice(app_name="wsgi-test")

    @app.route("/echo/{name}", methods=["POST", "GET", "HEAD"])
    def echo(name: str) -> dict[str, Any]:
        first = app.current_request.json_body
        if overlap is not None:
            overlap.wait()
        return {"name": name, "first": first, "again": app.current_request.json_body}

    @app.route("/event")
    def event() -> dict[str, Any]:
        return app.current_request.to_original_event()

    return app


def call(
    wsgi: ChaliceWSGI, method: str, target: str, body: bytes = b"", **environ: str
) -> tuple[str, dict[str, str], bytes]:
    path, _, query = target.partition("?")
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": "192.0.2.7",
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "x",
        **environ,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
        env["CONTENT_TYPE"] = "application/json"
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    payload = b"".join(wsgi(env, start_response))
    return answer["status"], answer["headers"], payload


def test_the_event_is_chalices_with_the_callers_address() -> None:
    app = make_app()
    wsgi = ChaliceWSGI(app, Config())
    _status, _headers, body = call(wsgi, "GET", "/event?a=1&a=2&b=", HTTP_X_TRACE="t")
    event = json.loads(body)
    converter = local.LambdaEventConverter(local.RouteMatcher(list(app.routes)))
    expected = converter.create_lambda_event(
        "GET", "/event?a=1&a=2&b=", {"host": "x", "x-trace": "t"}, None
    )
    assert event["requestContext"]["identity"]["sourceIp"] == "192.0.2.7"
    event["requestContext"]["identity"]["sourceIp"] = "127.0.0.1"
    assert event == expected


def test_concurrent_requests_never_see_each_others_body() -> None:
    """Chalice issue 759: `current_request` shared between threads."""
    wsgi = ChaliceWSGI(make_app(overlap=threading.Barrier(2, timeout=30)), Config())

    def one(n: int) -> dict[str, Any]:
        body = json.dumps({"n": n}).encode()
        status, _headers, payload = call(wsgi, "POST", f"/echo/c{n}", body)
        assert status == "200 OK"
        return json.loads(payload)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(400)))
    for n, answer in enumerate(answers):
        assert answer == {"name": f"c{n}", "first": {"n": n}, "again": {"n": n}}


def test_a_body_over_16384_bytes_is_413_without_reading_it() -> None:
    class Unreadable(io.RawIOBase):
        def read(self, *_args: Any) -> bytes:
            raise AssertionError("the body was read")

    wsgi = ChaliceWSGI(make_app(), Config())
    status, headers, payload = call(
        wsgi, "POST", "/echo/x", CONTENT_LENGTH="16385", **{"wsgi.input": Unreadable()}
    )
    assert status == "413 Request Entity Too Large"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(payload)["error"]["code"] == "body_too_large"


def test_a_head_answer_has_no_body_but_its_length() -> None:
    wsgi = ChaliceWSGI(make_app(), Config())
    _status, get_headers, get_body = call(wsgi, "GET", "/echo/x")
    _status, head_headers, head_body = call(wsgi, "HEAD", "/echo/x")
    assert head_body == b"" and get_body
    assert head_headers["Content-Length"] == get_headers["Content-Length"] == str(len(get_body))


def test_an_unknown_route_is_403_in_the_contract_format_without_the_key() -> None:
    status, _headers, payload = call(
        ChaliceWSGI(make_app(), Config()), "GET", "/nothing", HTTP_AUTHORIZATION="Bearer sk_x"
    )
    assert status == "403 Forbidden"
    assert json.loads(payload)["error"]["code"] == "resource_missing"
    assert b"sk_x" not in payload


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.7", "", [], "192.0.2.7"),
        ("192.0.2.7", "203.0.113.9", [], "192.0.2.7"),  # not a trusted proxy: ignored
        ("10.0.0.2", "203.0.113.9", ["10.0.0.2"], "203.0.113.9"),
        ("10.0.0.2", "198.51.100.1, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "203.0.113.9, 10.0.0.5", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "10.0.0.9, 10.0.0.5", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "203.0.113.9, garbage", ["10.0.0.2"], "10.0.0.2"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ],
)
def test_the_source_ip_believes_x_forwarded_for_only_from_a_trusted_proxy(
    peer: str, forwarded: str, trusted: list[str], expected: str
) -> None:
    wsgi = ChaliceWSGI(make_app(), Config(), trusted)
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    assert wsgi.source_ip(peer, headers) == expected


def test_the_route_index_matches_as_chalice_does_for_every_route_of_the_app() -> None:
    """The adapter finds a route without parameters in a dict; for every target Chalice's
    own matcher must give the same route, parameters and query (or refuse it too)."""
    from app import app as gateway_app
    from workers.wsgi import _IndexedRouteMatcher

    routes = list(gateway_app.routes)
    chalice, indexed = local.RouteMatcher(routes), _IndexedRouteMatcher(routes)
    targets = [t for route in routes for t in (route, route + "/", route + "?a=1&a=2&b=")]
    targets += [route.replace("{", "x{").replace("}", "") for route in routes]  # parameters
    targets += ["/", "/nope", "//api/v1/payments", "/api/v1/payments;x", "/api/v1/payments#f"]
    assert any(route in indexed._exact for route in routes)  # the index is used
    for target in targets:
        try:
            expected = chalice.match_route(target)
        except ValueError:
            with pytest.raises(ValueError):
                indexed.match_route(target)
            continue
        found = indexed.match_route(target)
        assert (found.route, found.captured, found.query_params) == (
            expected.route, expected.captured, expected.query_params,
        ), target  # fmt: skip
