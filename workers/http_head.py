"""A request's head (request line and header fields), parsed without `email.parser`.

The standard library's `BaseHTTPRequestHandler.parse_request` hands the header lines
to `email.parser`, built for mail: ~65 µs of a POST with five fields, against ~6 µs
here (measured), and every later `headers.get` walks all the fields again. This
module gives the same command, path, version, keep-alive and fields on every
well-formed head (`tests/unit/test_http_head.py` compares them with the standard
library's), and refuses what RFC 9112 says a server must not guess at, where the
standard library guessed (it dropped a line without a colon *and every field after
it*, joined a folded line to the field before with its CRLF):

- a field line without a colon, with an empty or non-token name, or with
  whitespace before the colon (RFC 9112 section 5.1) is 400;
- a folded line (obs-fold, a line starting with a space or tab) is 400 (section 5.2);
- a value with a bare CR is 400 (the standard library cut the value there and
  dropped every field after it).

A NUL in a value is passed on as the standard library did: the app refuses it in
the headers it reads, naming the header (`Idempotency-Key`'s `param`).

The caps are ours (`MAX_HEADER_FIELDS`, `MAX_HEADER_BYTES`: 431), checked as each
line arrives, before an excess is read into memory.
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from dataclasses import dataclass

from workers.http_limits import MAX_HEADER_BYTES, MAX_HEADER_FIELDS

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\r\n]")
_END = (b"\r\n", b"\n", b"")


class HeadError(Exception):
    """The head is refused with `status` (400, 431 or 505)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True, slots=True)
class RequestLine:
    command: str
    path: str
    version: str  # as sent ("HTTP/1.1"), or the default for a two-word HTTP/0.9 line
    keep_alive: bool  # HTTP/1.1 or later: kept alive unless its Connection header says close


def parse_request_line(line: str, default_version: str, protocol: str) -> RequestLine | None:
    """The request line (decoded as ISO-8859-1, its line end stripped) as
    `BaseHTTPRequestHandler.parse_request` reads it; None for a blank line (the
    standard library answers nothing and closes)."""
    words = line.split()
    if not words:
        return None
    version, keep_alive = default_version, False
    if len(words) >= 3:
        version = words[-1]
        number = version[5:].split(".") if version.startswith("HTTP/") else []
        if len(number) != 2 or not all(part.isdigit() and len(part) <= 10 for part in number):
            raise HeadError(400)
        major_minor = int(number[0]), int(number[1])
        if major_minor >= (2, 0):
            raise HeadError(505)
        keep_alive = major_minor >= (1, 1) and protocol >= "HTTP/1.1"
    if not 2 <= len(words) <= 3:
        raise HeadError(400)
    command, path = words[0], words[1]
    if len(words) == 2 and command != "GET":  # HTTP/0.9 knows only GET
        raise HeadError(400)
    if path.startswith("//"):  # as the standard library: never an open redirect (gh-87389)
        path = "/" + path.lstrip("/")
    return RequestLine(command, path, version, keep_alive)


class Fields:
    """The header fields in the order sent, and each name's first value by lower-cased name."""

    __slots__ = ("first", "lines")

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines
        self.first: dict[str, str] = {}
        for name, value in lines:
            self.first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for field, value in self.lines if field.lower() == lowered]

    def as_dict(self) -> dict[str, str]:
        """What `dict(HTTPMessage)` gives: each name as sent, with its name's first value."""
        return {name: self.first[name.lower()] for name, _ in self.lines}

    def as_message(self) -> http.client.HTTPMessage:
        """The standard library's `HTTPMessage` of the same fields."""
        message = http.client.HTTPMessage()
        for name, value in self.lines:
            message.set_raw(name, value)
        return message


def read_fields(
    readline: Callable[[int], bytes],
    max_fields: int = MAX_HEADER_FIELDS,
    max_bytes: int = MAX_HEADER_BYTES,
) -> Fields:
    """Read field lines up to the blank line that ends them (or the end of the stream,
    as the standard library does: a cut-short head is the read deadline's business)."""
    lines: list[tuple[str, str]] = []
    bytes_left = max_bytes
    while True:
        line = readline(bytes_left + 1)
        bytes_left -= len(line)
        if bytes_left < 0:
            raise HeadError(431)
        if line in _END:
            return Fields(lines)
        if len(lines) == max_fields:
            raise HeadError(431)
        field = _field_line(str(line, "iso-8859-1").rstrip("\r\n"))
        if field is None:
            raise HeadError(400)
        lines.append(field)


def _field_line(text: str) -> tuple[str, str] | None:
    """(name, value) of a field line (its line end stripped); None when it is malformed:
    no colon, obs-fold, whitespace before the colon, a bad name, or a CR or LF left in
    the value."""
    name, colon, value = text.partition(":")
    if not colon or not _TOKEN.fullmatch(name):
        return None
    value = value.lstrip(" \t")
    if _BAD_VALUE.search(value):
        return None
    return name, value


def closes_after(line: RequestLine, fields: Fields, protocol: str) -> bool:
    """Whether the connection closes after this request's answer, as the standard library
    decides: the version's default, then its Connection header."""
    connection = (fields.get("Connection") or "").lower()
    if connection == "close":
        return True
    if connection == "keep-alive" and protocol >= "HTTP/1.1":
        return False
    return not line.keep_alive


#: The versions a clean head may carry (anything else takes the general path).
_CLEAN_VERSIONS = {"HTTP/1.1": True, "HTTP/1.0": False}


def parse_clean_head(head: bytes) -> tuple[RequestLine, Fields] | None:
    """A whole head (request line to blank line, CRLF line ends) in one go, as
    `parse_request_line` (for a server speaking HTTP/1.1) and `read_fields` read it, or
    None when it is anything but plain: then those two read it line by line and decide,
    refusals included. Plain: three words separated by single spaces, HTTP/1.1 or 1.0,
    a path starting with one slash, at most `MAX_HEADER_FIELDS` well-formed fields
    without bare CR or LF. Never refuses anything itself."""
    lines = str(head, "iso-8859-1").split("\r\n")
    words = lines[0].split()
    if len(words) != 3 or " ".join(words) != lines[0]:
        return None
    if lines[-2:] != ["", ""] or len(lines) - 3 > MAX_HEADER_FIELDS:
        return None
    command, path, version = words
    keep_alive = _CLEAN_VERSIONS.get(version)
    if keep_alive is None or not command or not path.startswith("/") or path.startswith("//"):
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:-2]:
        field = _field_line(line)
        if field is None:
            return None
        fields.append(field)
    return RequestLine(command, path, version, keep_alive), Fields(fields)
