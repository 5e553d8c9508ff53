"""The request head is read as the standard library reads it, and refused where it must be.

`workers.http_head` replaces `BaseHTTPRequestHandler.parse_request`'s `email` parser.
On every well-formed head the handler ends with the standard library's command, path,
version, keep-alive decision, headers and 100 Continue. Malformed field lines, which
the standard library dropped (with every field after them) or folded into the field
before, are 400.
"""

from __future__ import annotations

import io
from http.server import BaseHTTPRequestHandler

import pytest

from workers.http_head import HeadError, parse_request_line, read_fields
from workers.http_limits import MAX_HEADER_BYTES, MAX_HEADER_FIELDS
from workers.http_server import QuietRequestHandler

TYPICAL = (
    "Host: 127.0.0.1:8000\r\nAuthorization: Bearer sk_test_abc\r\n"
    "Content-Type: application/json\r\nIdempotency-Key: key_1\r\nContent-Length: 2\r\n"
)
WELL_FORMED = [
    ("POST /api/v1/payments HTTP/1.1", TYPICAL + "\r\n"),
    ("GET /health HTTP/1.1", "\r\n"),  # no fields at all
    ("GET /health HTTP/1.0", "Connection: keep-alive\r\n\r\n"),
    ("GET /health HTTP/1.0", "\r\n"),
    ("GET /health HTTP/1.1", "Connection: Close\r\n\r\n"),
    ("GET /health HTTP/1.1", "Connection: close\r\nConnection: keep-alive\r\n\r\n"),
    ("GET /health HTTP/01.01", "Host: x\r\n\r\n"),  # leading zeros are ignored
    ("GET /health HTTP/1.1", "X-A: 1\r\nx-a: 2\r\nX-A: 3\r\n\r\n"),  # repeated names
    ("GET /health HTTP/1.1", "X-Pad:\t  spaced value  \r\nX-Empty:\r\nX-Colon: a:b\r\n\r\n"),
    ("GET /health HTTP/1.1", "Host: x\nAccept: */*\n\n"),  # bare LF line ends
    ("GET /health HTTP/1.1", "Host: x\r\nX-Latin: caf\xe9\r\n\r\n"),
    ("GET /health HTTP/1.1", "Host: x\r\nX-Nul: a\x00b\r\n\r\n"),  # the app refuses it
    ("GET /health HTTP/1.1", "Host: x\r\n"),  # cut short: no blank line
    ("GET //evil.example/health HTTP/1.1", "Host: x\r\n\r\n"),  # never an open redirect
    ("GET /", ""),  # HTTP/0.9
    ("PATCH   /api/v1/payments   HTTP/1.1  ", "Host: x\r\n\r\n"),  # extra spaces
    ("POST /api/v1/payments HTTP/1.1", "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
    ("POST /api/v1/payments HTTP/1.0", "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
]


class _Stdlib(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Chalice's handler's

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.refused = int(code)


class _Ours(QuietRequestHandler):
    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.refused = int(code)


def _parse(handler_cls: type, line: str, fields: str) -> BaseHTTPRequestHandler:
    handler = handler_cls.__new__(handler_cls)
    handler.raw_requestline = (line + "\r\n").encode("latin-1")
    handler.rfile = io.BufferedReader(io.BytesIO(fields.encode("latin-1")))  # type: ignore[arg-type]
    handler.wfile = io.BytesIO()
    handler.refused = None
    handler.parsed = handler.parse_request()
    return handler


@pytest.mark.parametrize(("line", "fields"), WELL_FORMED)
def test_a_well_formed_head_reads_as_the_standard_librarys(line: str, fields: str) -> None:
    stdlib, ours = _parse(_Stdlib, line, fields), _parse(_Ours, line, fields)
    assert ours.parsed is stdlib.parsed is True
    assert (ours.command, ours.path, ours.request_version, ours.requestline) == (
        stdlib.command,
        stdlib.path,
        stdlib.request_version,
        stdlib.requestline,
    )
    assert ours.close_connection == stdlib.close_connection
    assert ours.headers.items() == stdlib.headers.items()
    assert ours.fields.as_dict() == dict(stdlib.headers)
    for name in ("host", "X-A", "Connection", "missing"):
        assert ours.fields.get(name) == stdlib.headers.get(name)
        assert ours.fields.get_all(name) == (stdlib.headers.get_all(name) or [])
    assert ours.wfile.getvalue() == stdlib.wfile.getvalue()  # "100 Continue" or nothing
    assert ours.rfile.read() == stdlib.rfile.read()  # both stopped at the same byte


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("GET /health HTTP/2.0", 505),
        ("GET /health HTTP/3", 400),
        ("GET /health HTTPS/1.1", 400),
        ("GET /health HTTP/1.1.1", 400),
        ("GET /health HTTP/1.x", 400),
        ("GET /health HTTP/1.12345678901", 400),
        ("GET /a /b HTTP/1.1", 400),  # four words
        ("POST /api/v1/payments", 400),  # HTTP/0.9 knows only GET
        ("GET", 400),
    ],
)
def test_a_bad_request_line_is_refused_as_the_standard_library_does(line: str, status: int) -> None:
    stdlib, ours = _parse(_Stdlib, line, "\r\n"), _parse(_Ours, line, "\r\n")
    assert stdlib.refused == status
    assert ours.refused == status and ours.parsed is False
    with pytest.raises(HeadError) as refused:
        parse_request_line(line, "HTTP/0.9", "HTTP/1.1")
    assert refused.value.status == status


def test_a_blank_request_line_is_ignored_as_the_standard_library_does() -> None:
    assert parse_request_line("", "HTTP/0.9", "HTTP/1.1") is None
    assert _parse(_Ours, "", "").parsed is False and _parse(_Stdlib, "", "").parsed is False


@pytest.mark.parametrize(
    ("field", "stdlib_kept"),
    [
        # What the standard library made of the field and the Authorization after it.
        ("Host : x", [("Host", "x")]),  # whitespace before the colon: the rest dropped
        ("NoColonHere", [("Host", "x")]),
        ("X-Cr: a\rb", [("Host", "x"), ("X-Cr", "a")]),  # a bare CR: cut there, rest dropped
        (" folded", [("Host", "x\r\n folded"), ("Authorization", "Bearer k")]),  # obs-fold
        ("\tfolded", [("Host", "x\r\n\tfolded"), ("Authorization", "Bearer k")]),
        (": no name", [("Host", "x"), ("Authorization", "Bearer k")]),
        ("Bad(Name): x", [("Host", "x"), ("Bad(Name)", "x"), ("Authorization", "Bearer k")]),
    ],
)
def test_a_malformed_field_line_is_400(field: str, stdlib_kept: list[tuple[str, str]]) -> None:
    fields = f"Host: x\r\n{field}\r\nAuthorization: Bearer k\r\n\r\n"
    stdlib = _parse(_Stdlib, "GET /health HTTP/1.1", fields)
    assert stdlib.parsed is True and stdlib.headers.items() == stdlib_kept
    ours = _parse(_Ours, "GET /health HTTP/1.1", fields)
    assert ours.parsed is False and ours.refused == 400


def _read(raw: bytes) -> int | list[tuple[str, str]]:
    try:
        return read_fields(io.BufferedReader(io.BytesIO(raw)).readline).lines  # type: ignore[arg-type]
    except HeadError as refused:
        return refused.status


def test_the_field_caps_are_431_at_the_first_field_or_byte_over() -> None:
    at_cap = "".join(f"X-{n}: v\r\n" for n in range(MAX_HEADER_FIELDS)) + "\r\n"
    assert len(_read(at_cap.encode())) == MAX_HEADER_FIELDS  # type: ignore[arg-type]
    over = "".join(f"X-{n}: v\r\n" for n in range(MAX_HEADER_FIELDS + 1)) + "\r\n"
    assert _read(over.encode()) == 431
    filler = "X-Big: " + "a" * (MAX_HEADER_BYTES - len("X-Big: \r\n\r\n")) + "\r\n"
    assert _read((filler + "\r\n").encode()) == [("X-Big", filler[7:-2])]
    assert _read((filler + "X: 1\r\n\r\n").encode()) == 431
    # One line longer than the whole cap is refused without reading it all.
    stream = io.BufferedReader(io.BytesIO(b"X-Big: " + b"a" * 100_000 + b"\r\n\r\n"))
    with pytest.raises(HeadError):
        read_fields(stream.readline)  # type: ignore[arg-type]
    assert len(stream.read()) > 80_000
