"""The local server refuses abuse, shown over raw sockets (issue 11, item 5).

Framing (413 before the body, 400, 411), header caps (431), a read deadline that
frees a slowloris's thread (408), and a bound on concurrent connections (503),
each answered in the contract's error format.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, start_server, stop_server, wait_until

JSON_POST = (
    "POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
    "Content-Type: application/json\r\n"
)


def _port(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-case names) and the body of Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a whole head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], dict, bool]:
    """Send raw bytes; the answer's status, headers, JSON body and whether the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        status, headers, body = _read_response(sock)
        return status, headers, json.loads(body), _closed_by_server(sock)


def assert_contract_error(body: dict, code: str) -> None:
    error = body["error"]
    assert error["code"] == code, body
    assert error["type"] in ("invalid_request_error", "api_error")
    assert isinstance(error["message"], str) and error["message"]


def test_a_content_length_over_16384_is_413_before_any_body_byte(live_server, merchant) -> None:
    head = JSON_POST.format(key=merchant.api_key) + "Content-Length: 1000000\r\n\r\n"
    # No body byte is ever sent: a server that waited for it would time out this read.
    status, headers, body, closed = exchange(_port(live_server), head.encode())
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert_contract_error(body, "body_too_large")
    assert closed


@pytest.mark.parametrize(
    "lengths", [["-1"], ["abc"], ["1e3"], ["+5"], ["٣"], ["5", "6"], ["99999999999999999999"]]
)
def test_a_negative_or_malformed_content_length_is_400(live_server, merchant, lengths) -> None:
    fields = "".join(f"Content-Length: {value}\r\n" for value in lengths)
    raw = (JSON_POST.format(key=merchant.api_key) + fields + "\r\n{}").encode()
    status, _headers, body, closed = exchange(_port(live_server), raw)
    assert status == 400, body
    assert_contract_error(body, "parameter_invalid")
    assert body["error"]["param"] == "Content-Length"
    assert closed


def test_a_chunked_body_is_411(live_server, merchant) -> None:
    raw = (
        JSON_POST.format(key=merchant.api_key)
        + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    ).encode()
    status, _headers, body, closed = exchange(_port(live_server), raw)
    assert status == 411
    assert_contract_error(body, "length_required")
    assert closed


def test_expect_100_continue_with_a_too_large_body_is_413_without_100(live_server) -> None:
    raw = (
        b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 20000\r\n\r\n"
    )
    status, _headers, body, _closed = exchange(_port(live_server), raw)
    assert status == 413
    assert_contract_error(body, "body_too_large")


def test_too_many_header_fields_is_431(live_server) -> None:
    fields = "".join(f"X-Pad-{n}: v\r\n" for n in range(90))  # the stdlib alone allows 100
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode()
    status, _headers, body, closed = exchange(_port(live_server), raw)
    assert status == 431
    assert_contract_error(body, "header_fields_too_large")
    assert closed


def test_too_many_header_bytes_is_431(live_server) -> None:
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 20_000}\r\n\r\n".encode()
    status, _headers, body, closed = exchange(_port(live_server), raw)
    assert status == 431
    assert_contract_error(body, "header_fields_too_large")
    assert closed


def test_an_ordinary_request_with_many_headers_still_passes(live_server) -> None:
    fields = "".join(f"X-Pad-{n}: {'v' * 100}\r\n" for n in range(40))
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{fields}\r\n".encode()
    status, _headers, body, _closed = exchange(_port(live_server), raw)
    assert status == 200 and body["status"] == "ok"


@pytest.mark.parametrize("field", ["Authorization : Bearer x", " folded", "NoColon", "X-Cr: a\rb"])
def test_a_malformed_header_line_is_400_and_closed(live_server, field: str) -> None:
    # The standard library's parser dropped or folded such lines and served the request.
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\n{field}\r\n\r\n".encode()
    status, _headers, body, closed = exchange(_port(live_server), raw)
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]
    assert closed


def test_a_too_long_request_line_is_414_in_the_contract_format(live_server) -> None:
    raw = f"GET /health?{'a' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    status, _headers, body, _closed = exchange(_port(live_server), raw)
    assert status == 414
    assert_contract_error(body, "uri_too_long")


# --------------------------------------------------------------------- a tight server
MAX_CONNECTIONS = 2


@pytest.fixture
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One worker, two connections at most, one second to send a request. Its own for
    each test: connections another test just closed would still hold the slots until
    the server has seen them go."""
    server = start_server(
        tmp_path_factory.mktemp("tight"),
        {
            "SERVE_WORKERS": "1",
            "SERVE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "SERVE_READ_TIMEOUT_S": "1",
            "SERVE_IDLE_TIMEOUT_S": "60",
        },
    )
    yield server
    stop_server(server)


def _served_health(port: int) -> socket.socket | None:
    """A kept-alive connection that has been answered /health (so it holds a slot), or None."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _headers, _body = _read_response(sock)
    if status == 200:
        return sock
    sock.close()
    return None


def test_concurrent_connections_are_bounded(tight_server) -> None:
    port = _port(tight_server)
    held = [wait_until(lambda: _served_health(port)) for _ in range(MAX_CONNECTIONS)]
    try:
        status, headers, body, closed = exchange(port, b"")
        assert status == 503
        assert headers["retry-after"] == "1"
        assert_contract_error(body, "service_unavailable")
        assert closed
        # The held connections are still served, and a freed slot is taken again.
        held[0].sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(held[0])[0] == 200
        held.pop().close()
        held.append(wait_until(lambda: _served_health(port)))
    finally:
        for sock in held:
            sock.close()


def _loris(port: int) -> socket.socket | None:
    """A connection holding a slot with half a head sent, or None if it was turned away:
    the 503 comes at once, while a slot is still held by a connection that closed a
    moment ago (the readiness probe's) and the server has not yet seen it go."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    turned_away, _, _ = select.select([sock], [], [], 0.3)  # a 408 takes a second
    if turned_away:
        sock.close()
        return None
    return sock


def test_slowloris_gets_408_and_frees_its_thread(tight_server) -> None:
    """Both slots held by clients that trickle their headers; the deadline frees them."""
    port = _port(tight_server)
    lorises = [wait_until(lambda: _loris(port)) for _ in range(MAX_CONNECTIONS)]
    answers: dict[socket.socket, bytes] = {}
    started = time.monotonic()
    try:
        # Each round sends one more header line to every open loris, then waits up to
        # 0.1 s for an answer: a trickle that keeps any per-read timeout from firing.
        for _ in range(300):
            waiting = [s for s in lorises if s not in answers]
            if not waiting:
                break
            for sock in waiting:
                try:
                    sock.sendall(b"X-a: b\r\n")
                except OSError:
                    pass  # the server has closed its side
            readable, _, _ = select.select(waiting, [], [], 0.1)
            for sock in readable:
                status, _headers, body = _read_response(sock)
                answers[sock] = body
                assert status == 408, body
                assert_contract_error(json.loads(body), "request_timeout")
        assert len(answers) == MAX_CONNECTIONS, "slowloris connections were never cut"
        assert time.monotonic() - started < 20
        # Their threads are free again: an ordinary request is served.
        served = wait_until(lambda: _served_health(port))
        served.close()
    finally:
        for sock in lorises:
            sock.close()
