"""The server (granian, `workers/serve.py`) refuses abuse, shown over raw sockets.

Where granian refuses before the app sees a request, its own status is the answer
(an empty body: docs/api.md, "Statuses from the server"); where the app answers, the
body is in the contract's error format.
"""

from __future__ import annotations

import json
import socket
import weakref

import pytest

from tests.e2e.test_bad_input import payments_for
from tests.support import LiveServer

JSON_POST = (
    "POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
    "Content-Type: application/json\r\n"
)


#: Bytes read past a response, kept for the next one on the same connection.
_rest: weakref.WeakKeyDictionary[socket.socket, bytes] = weakref.WeakKeyDictionary()


def _port(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


def _read_response(
    sock: socket.socket, *, head_only: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-case names) and the body of Content-Length
    (none for an answer to HEAD). Bytes read past it are kept for the next call."""
    data = _rest.pop(sock, b"")
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
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    _rest[sock] = body[length:]
    return status, headers, body[:length]


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return _rest.get(sock, b"") == b"" and sock.recv(1) == b""
    except ConnectionResetError:
        return True


def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    """Send raw bytes; the answer's status, headers, body and whether the server closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        status, headers, body = _read_response(sock)
        return status, headers, body, _closed_by_server(sock)


def assert_contract_error(body: bytes, code: str) -> None:
    error = json.loads(body)["error"]
    assert error["code"] == code, body
    assert error["type"] in ("invalid_request_error", "api_error")
    assert isinstance(error["message"], str) and error["message"]


def assert_no_traceback(server: LiveServer) -> None:
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]


@pytest.mark.parametrize("length", [16_385, 1_000_000], ids=["just_over", "a_megabyte"])
def test_a_content_length_over_16384_is_413_before_any_body_byte(
    live_server, merchant, length: int
) -> None:
    head = JSON_POST.format(key=merchant.api_key) + f"Content-Length: {length}\r\n\r\n"
    # No body byte is ever sent: a server that waited for it would time out this read.
    status, headers, body, closed = exchange(_port(live_server), head.encode())
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert_contract_error(body, "body_too_large")
    assert closed
    assert payments_for(merchant.merchant_id) == 0


def test_a_chunked_body_over_16384_is_413_in_the_contract_format(live_server, merchant) -> None:
    chunk = b"a" * 20_000
    raw = (
        JSON_POST.format(key=merchant.api_key).encode()
        + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(chunk):x}\r\n".encode()
        + chunk
        + b"\r\n0\r\n\r\n"
    )
    status, _headers, body, _closed = exchange(_port(live_server), raw)
    assert status == 413
    assert_contract_error(body, "body_too_large")


@pytest.mark.parametrize(
    "value", [b"2\x1c", b"2\x1d", b"2\x1e", b"2\x1f", b"2\x0b", b"2\x0c", b"2\x85", b"2\xa0"]
)
def test_a_content_length_with_control_characters_is_400_without_a_traceback(
    live_server, merchant, value: bytes
) -> None:
    raw = JSON_POST.format(key=merchant.api_key).encode() + b"Content-Length: " + value
    status, _headers, _body, closed = exchange(_port(live_server), raw + b"\r\n\r\n{}")
    assert status == 400
    assert closed
    assert_no_traceback(live_server)


@pytest.mark.parametrize("lengths", [["-1"], ["abc"], ["1e3"], ["+5"], ["٣"], ["5", "6"]])
def test_a_malformed_or_duplicated_content_length_is_400(live_server, merchant, lengths) -> None:
    fields = "".join(f"Content-Length: {value}\r\n" for value in lengths)
    raw = (JSON_POST.format(key=merchant.api_key) + fields + "\r\n{}").encode()
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status == 400
    assert closed


def test_content_length_with_transfer_encoding_is_never_read_two_ways(live_server) -> None:
    """A smuggling attempt: read by Content-Length, the body would end at `0\\r\\n\\r\\n`
    and `GET /smuggled` would be a second request. It must never be answered."""
    raw = (
        b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(live_server)), timeout=10) as sock:
        sock.sendall(raw)
        status, _headers, _body = _read_response(sock)
        assert status in (400, 401)  # refused, or read as chunked (no key: 401)
        assert _closed_by_server(sock), "the bytes after the body must not be a request"


def test_a_head_answer_has_no_body_on_a_kept_alive_connection(live_server) -> None:
    """HEAD then GET in one buffer: the second answer starts right after the first head."""
    raw = (
        b"HEAD /dashboard HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /dashboard/nonexistent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", _port(live_server)), timeout=10) as sock:
        sock.sendall(raw)
        first, _headers, body = _read_response(sock, head_only=True)
        assert body == b""
        while len(_rest.get(sock, b"")) < 9:
            _rest[sock] = _rest.get(sock, b"") + sock.recv(65536)
        assert _rest[sock].startswith(b"HTTP/1.1 "), _rest[sock][:200]  # no body between
        second, _headers, _body = _read_response(sock)
    assert first in (200, 405) and second in (403, 404)


@pytest.mark.parametrize("field", [b"Host: x\r", b"X-Cr: a\rb"])
def test_a_bare_cr_is_400(live_server, field: bytes) -> None:
    raw = b"GET /health HTTP/1.1\r\n" + field + b"\r\n\r\n"
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status == 400
    assert closed


@pytest.mark.parametrize("field", ["Authorization : Bearer x", " folded", "NoColon"])
def test_a_malformed_header_line_is_400_and_closed(live_server, field: str) -> None:
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\n{field}\r\n\r\n".encode()
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status == 400
    assert closed


def test_too_many_header_fields_is_431(live_server) -> None:
    fields = "".join(f"X-Pad-{n}: v\r\n" for n in range(120))
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode()
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status == 431
    assert closed


def test_a_head_over_its_bytes_is_431(live_server) -> None:
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 20_000}\r\n\r\n".encode()
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status == 431
    assert closed


def test_a_too_long_request_line_is_refused(live_server) -> None:
    raw = f"GET /health?{'a' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    status, _headers, _body, closed = exchange(_port(live_server), raw)
    assert status in (414, 431)
    assert closed


def test_an_ordinary_request_with_many_headers_still_passes(live_server) -> None:
    fields = "".join(f"X-Pad-{n}: {'v' * 100}\r\n" for n in range(40))
    raw = f"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{fields}\r\n".encode()
    status, _headers, body, _closed = exchange(_port(live_server), raw)
    assert status == 200 and json.loads(body)["status"] == "ok"
