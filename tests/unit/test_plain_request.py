"""A plain request is served in one pass, with the same answer as the general path's.

`QuietRequestHandler._serve_plain_request` takes a request whose whole head is already
buffered and plain (`workers.http_head.parse_clean_head`, `clean_content_length`);
anything else goes the general way (`BaseHTTPRequestHandler.handle_one_request`, our
`parse_request`, Chalice's `LocalGateway`). Each request below is sent twice over one
kept-alive connection to a real server: once with the plain path, once with it switched
off. The app echoes the event it was given, so equal answers mean the app saw the same
request, and the client got the same bytes (the Date apart).
"""

from __future__ import annotations

import io
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from chalice import Chalice, Response
from chalice.config import Config

from workers.http_head import parse_clean_head, parse_request_line, read_fields
from workers.http_limits import MAX_HEADER_FIELDS, clean_content_length
from workers.http_server import QuietRequestHandler, make_server

app = Chalice(app_name="plain-request-test")


@app.route("/things/{thing_id}", methods=["GET", "POST", "DELETE"])
def thing(thing_id: str) -> Response:
    request = app.current_request
    echo = {
        "method": request.method,
        "thing_id": thing_id,
        "query": request.query_params,
        "headers": dict(request.headers),
        "body": request.raw_body.decode("latin-1") if request.raw_body else None,
        "context": {k: request.context[k] for k in ("httpMethod", "resourcePath", "path")},
        "sourceIp": request.context["identity"]["sourceIp"],
    }
    return Response(body=echo, status_code=201, headers={"X-Many": ["a", "b"], "X-One": "1"})


REQUESTS = [
    b"GET /things/t1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /things/t1?a=1&b=&a=2 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n",
    b"POST /things/t2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b'Content-Length: 11\r\n\r\n{"a": "b"}\n',
    b"POST /things/t2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    b"POST /things/t2 HTTP/1.1\r\nHost: x\r\n\r\n",  # no body at all
    b"DELETE /things/t3/ HTTP/1.1\r\nHost: x\r\nX-Pad:   spaced  \r\n\r\n",  # trailing slash
    b"GET /things/t1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"GET /things/t1 HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n",
    b"PUT /things/t1 HTTP/1.1\r\nHost: x\r\n\r\n",  # Chalice's 405
    b"GET /nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk_x\r\n\r\n",  # no route: 403
    b"OPTIONS /things/t1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"HEAD /things/t1 HTTP/1.1\r\nHost: x\r\n\r\n",
]
#: Not plain: the general path takes these either way.
NOT_PLAIN = [
    b"GET /things/t1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
    b"POST /things/t2 HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
    b"GET /things/t1 HTTP/1.1\nHost: x\n\n",
    b"POST /things/t2 HTTP/1.1\r\nContent-Length: 99999\r\n\r\n",  # 413
    b"GET /things/t1 HTTP/1.1\r\nHost : x\r\n\r\n",  # 400
]
REQUESTS += NOT_PLAIN


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = make_server(app, Config.create(chalice_app=app, app_name=app.app_name), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server.server_address[1]
    server.shutdown()


ORIGINAL = QuietRequestHandler._serve_plain_request


def _exchange(port: int, payload: bytes) -> bytes:
    """Send `payload` on one connection, end the sending side, and read to the end."""
    answers = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            answers += chunk
    # A date, and the id Chalice gives each 403, differ from one request to the next.
    return re.sub(rb"(Date|x-amzn-RequestId): [^\r]*", rb"\1: -", answers)


def _count_plain_path(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each request's outcome of `_serve_plain_request` (True: it served it), from now on."""
    taken: list[bool] = []

    def counting(self: QuietRequestHandler) -> bool:
        taken.append(ORIGINAL(self))
        return taken[-1]

    monkeypatch.setattr(QuietRequestHandler, "_serve_plain_request", counting)
    return taken


def _both_ways(port: int, payload: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """(plain path's answers, general path's answers, what the plain path took)."""
    taken = _count_plain_path(monkeypatch)
    plain = _exchange(port, payload)
    monkeypatch.setattr(QuietRequestHandler, "_serve_plain_request", lambda self: False)
    general = _exchange(port, payload)
    return plain, general, taken


@pytest.mark.parametrize("request_bytes", REQUESTS)
def test_a_request_gets_the_general_paths_answer(
    port: int, request_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, general, taken = _both_ways(port, request_bytes, monkeypatch)
    assert plain == general
    assert plain.startswith(b"HTTP/1.1 ")
    assert taken == [request_bytes not in NOT_PLAIN]


def test_pipelined_requests_get_the_general_paths_answers(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All at once on one connection: each head is found in what the last read buffered."""
    pipelined = b"".join(r for r in REQUESTS if r not in NOT_PLAIN and b"HTTP/1.0" not in r)
    plain, general, taken = _both_ways(port, pipelined, monkeypatch)
    assert plain == general
    assert plain.count(b"HTTP/1.1 ") == len(taken) == len(REQUESTS) - len(NOT_PLAIN) - 1
    assert all(taken)


def test_a_head_not_yet_all_buffered_takes_the_general_path(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _count_plain_path(monkeypatch)
    request = REQUESTS[2]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request[:20])
        threading.Event().wait(0.2)  # the server's first read has only these bytes
        sock.sendall(request[20:])
        answer = sock.recv(65536)
    assert taken == [False]
    assert answer.startswith(b"HTTP/1.1 201 ")
    assert b'"thing_id":"t2"' in answer


CLEAN = [
    (b"POST /api/v1/payments HTTP/1.1", b"Host: x\r\nContent-Length: 2\r\n"),
    (b"GET /health HTTP/1.0", b"Connection: keep-alive\r\n"),
    (b"GET /health?a=1 HTTP/1.1", b"X-Pad:\t  spaced value  \r\nX-Empty:\r\nX-C: a:b\r\n"),
    (b"GET /health HTTP/1.1", b""),
    (b"GET /health HTTP/1.1", b"X-Latin: caf\xe9\r\nX-Nul: a\x00b\r\n"),
]
NOT_CLEAN = [
    (b"GET /health HTTP/1.1", b"Host : x\r\n"),
    (b"GET /health HTTP/1.1", b"NoColon\r\n"),
    (b"GET /health HTTP/1.1", b"X-Cr: a\rb\r\n"),
    (b"GET /health HTTP/1.1", b"Host: x\r\n folded\r\n"),
    (b"GET /health HTTP/1.1", b"Bad(Name): x\r\n"),
    (b"GET /health HTTP/1.1", b"Host: x\nAccept: */*\r\n"),
    (b"GET /health HTTP/2.0", b""),
    (b"GET /health HTTP/01.01", b""),
    (b"GET  /health HTTP/1.1", b""),
    (b"GET /a\tb HTTP/1.1", b""),
    (b"GET //evil.example/ HTTP/1.1", b""),
    (b"GET /", b""),
    (b"GET /health HTTP/1.1", b"".join(b"X-%d: v\r\n" % n for n in range(MAX_HEADER_FIELDS + 1))),
]


@pytest.mark.parametrize(("line", "fields"), CLEAN)
def test_a_clean_head_parses_as_line_by_line(line: bytes, fields: bytes) -> None:
    parsed = parse_clean_head(line + b"\r\n" + fields + b"\r\n")
    assert parsed is not None
    request_line, got = parsed
    assert request_line == parse_request_line(line.decode("latin-1"), "HTTP/0.9", "HTTP/1.1")
    stream = io.BufferedReader(io.BytesIO(fields + b"\r\n"))  # type: ignore[arg-type]
    assert got.lines == read_fields(stream.readline).lines


@pytest.mark.parametrize(("line", "fields"), NOT_CLEAN)
def test_anything_else_is_left_to_the_line_by_line_reading(line: bytes, fields: bytes) -> None:
    assert parse_clean_head(line + b"\r\n" + fields + b"\r\n") is None


@pytest.mark.parametrize(
    ("fields", "length"),
    [
        (b"", 0),
        (b"Content-Length: 12\r\n", 12),
        (b"Content-Length:  7 \r\n", 7),
        (b"Content-Length: 16384\r\n", 16384),
        (b"Content-Length: 16385\r\n", None),  # 413: framing_error answers it
        (b"Content-Length: -1\r\n", None),
        (b"Content-Length: 1\r\nContent-Length: 1\r\n", None),
        (b"X-A: 1\r\nx-a: 2\r\n", None),  # any repeated field: the general path
        (b"Transfer-Encoding: chunked\r\n", None),
        (b"Expect: 100-continue\r\n", None),
    ],
)
def test_a_clean_length_only_when_the_framing_is_plainly_fine(
    fields: bytes, length: int | None
) -> None:
    parsed = parse_clean_head(b"POST /x HTTP/1.1\r\n" + fields + b"\r\n")
    assert parsed is not None
    assert clean_content_length(parsed[1]) == length
