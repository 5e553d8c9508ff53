"""Limits of the local HTTP server: what an abusive client can hold, and for how long.

Chalice's local handler trusts the client: it reads `int(Content-Length)` bytes
whatever they are (a malformed value is an exception and a dropped connection; a
huge one is read into memory before the app answers 413), it treats a chunked
body as the next request, and nothing ever times out, so a client that sends its
headers one byte at a time holds a thread for as long as it likes. Here:

- The framing is checked before any body byte is read: more than one or a
  malformed (signed, non-digit) `Content-Length` is 400, over `MAX_BODY_BYTES` is
  413 at once, and `Transfer-Encoding` (chunked) is 411. The connection is then
  closed, since its body was not read.
- The header section is capped at `MAX_HEADER_FIELDS` fields and
  `MAX_HEADER_BYTES` bytes (431, checked by `workers.http_head` as it reads them),
  the request line at the standard library's 64 KiB (414).
- Once a request's first byte arrives, its head and body must all arrive within
  `read_timeout_s`: a `Reaper` thread shuts the read side of a late connection,
  which wakes the blocked read at once, and the handler answers 408. A socket
  timeout would not do: it bounds each read, and a trickle resets it.
- A kept-alive connection that sends nothing for `idle_timeout_s` is closed, and so
  is one whose client reads nothing of an answer for as long (`kernel_timeouts`).
- Each worker process serves at most `max_connections` connections at once; one
  more is answered 503 (with `Retry-After`) and closed without taking a thread.

Every refusal has the contract's error body, made by `chalicelib.errors`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.errors import (
    BodyTooLargeError,
    GatewayError,
    HeaderFieldsTooLargeError,
    HttpVersionNotSupportedError,
    InvalidRequestError,
    LengthRequiredError,
    MethodNotAllowedError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UriTooLongError,
    error_body,
)

if TYPE_CHECKING:
    from workers.http_head import Fields

MAX_BODY_BYTES = 16_384  # docs/api.md: bodies over 16,384 bytes get 413
MAX_HEADER_FIELDS = 64
MAX_HEADER_BYTES = 16_384  # all header lines together, as Node's default
_CONTENT_LENGTH = re.compile(r"[0-9]{1,12}")
_REAP_EVERY_S = 0.2


@dataclass(frozen=True)
class Limits:
    """Per-worker limits; each can be set by an environment variable."""

    read_timeout_s: float = 10.0
    idle_timeout_s: float = 15.0
    max_connections: int = 256

    @classmethod
    def from_env(cls) -> Limits:
        return cls(
            read_timeout_s=float(os.environ.get("SERVE_READ_TIMEOUT_S") or cls.read_timeout_s),
            idle_timeout_s=float(os.environ.get("SERVE_IDLE_TIMEOUT_S") or cls.idle_timeout_s),
            max_connections=int(os.environ.get("SERVE_MAX_CONNECTIONS") or cls.max_connections),
        )


def kernel_timeouts(sock: socket.socket, seconds: float) -> bool:
    """Bound each blocking read and write on `sock` in the kernel (`SO_RCVTIMEO`,
    `SO_SNDTIMEO`), leaving the socket blocking; False if the system refused.

    Python's own socket timeout makes the socket non-blocking and polls before every
    recv and send, each poll one more release and retake of the GIL. With eight busy
    connections on two workers the GIL then changes hands more often: under wrk, server
    CPU per accept was 8-9 % lower with kernel timeouts (two interleaved runs of six
    rounds, fast and durable stacks). An expired read then reads nothing, as at end of
    file (the stdlib's socket file returns nothing on EAGAIN), and an expired write
    raises `BlockingIOError` where Python's raised `TimeoutError`. A write is bounded
    per send call, not in total: a client that takes something every `seconds` is
    still served. Both timeouts are tested in tests/e2e/test_server_timeouts.py."""
    whole, micro = int(seconds), int((seconds - int(seconds)) * 1_000_000)
    if whole <= 0 and micro <= 0:
        return False  # a zero timeval means no timeout at all to the kernel
    timeval = struct.pack("@ll", whole, micro)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    except OSError:
        return False
    return True


class RequestRefusedError(Exception):
    """Raised inside a handler to answer `error` and close the connection."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


def error_response(error: GatewayError, *, head_only: bool = False) -> tuple[int, bytes, dict]:
    """Status, body bytes and headers of a refusal, in the contract's format."""
    status, body, headers = error_body(error)
    payload = b"" if head_only else json.dumps(body).encode()
    return status, payload, headers


def refusal_bytes(error: GatewayError) -> bytes:
    """A whole HTTP/1.1 response, for a socket no handler thread will ever serve."""
    status, payload, headers = error_response(error)
    lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, '')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Connection: close",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


TOO_MANY_CONNECTIONS = refusal_bytes(
    ServiceUnavailableError(
        "The server has too many open connections; retry shortly.",
        headers={"Retry-After": "1"},
    )
)


def error_for_status(status: int) -> GatewayError:
    """The contract's error for a status the standard library answers itself.

    Its own messages quote the request line; ours never echo the request.
    """
    known: dict[int, GatewayError] = {
        408: RequestTimeoutError("The request did not arrive in time."),
        414: UriTooLongError("The request line is too long."),
        431: HeaderFieldsTooLargeError(
            f"Requests are limited to {MAX_HEADER_FIELDS} header fields and "
            f"{MAX_HEADER_BYTES} bytes of headers."
        ),
        501: MethodNotAllowedError("This method is not supported."),
        505: HttpVersionNotSupportedError("Only HTTP/1.0 and HTTP/1.1 are supported."),
    }
    return known.get(status) or InvalidRequestError("The request line or headers are malformed.")


def framing_error(headers: Fields) -> GatewayError | None:
    """Why the body framing is refused, before any body byte is read; None if it is fine."""
    if headers.get("Transfer-Encoding") is not None:
        return LengthRequiredError(
            "Chunked or otherwise encoded bodies are not accepted; send Content-Length."
        )
    values = headers.get_all("Content-Length") or []
    if not values:
        return None
    if len(values) > 1:
        return InvalidRequestError("Content-Length must be given once.", param="Content-Length")
    if not _CONTENT_LENGTH.fullmatch(values[0].strip()):
        return InvalidRequestError(
            "Content-Length must be a non-negative integer.", param="Content-Length"
        )
    if int(values[0]) > MAX_BODY_BYTES:
        return BodyTooLargeError(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    return None


def clean_content_length(headers: Fields) -> int | None:
    """The body's length when its framing is plainly fine (no `Transfer-Encoding` or
    `Expect`, no field given twice, `Content-Length` absent or well-formed and within
    the limit); None when `framing_error` must look, and answer if it finds fault."""
    first = headers.first
    if len(first) != len(headers.lines) or "expect" in first:
        return None
    if framing_error(headers) is not None:
        return None
    return content_length(headers)


def content_length(headers: Fields) -> int:
    """The checked Content-Length (0 when absent); call `framing_error` first."""
    return int((headers.get("Content-Length") or "0").strip())


class Watch:
    """One request being read: its socket and the time by which it must have arrived."""

    __slots__ = ("deadline", "expired", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.expired = False


class Reaper:
    """Shuts the read side of connections whose request is late (one thread per process).

    `SHUT_RD` makes the handler's blocked read return end-of-file at once while the
    socket can still carry the 408 answer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watched: set[Watch] = set()
        self._pid = 0

    def watch(self, sock: socket.socket, seconds: float) -> Watch:
        self._ensure_running()
        entry = Watch(sock, time.monotonic() + seconds)
        with self._lock:
            self._watched.add(entry)
        return entry

    def unwatch(self, entry: Watch | None) -> None:
        if entry is not None:
            with self._lock:
                self._watched.discard(entry)

    def _ensure_running(self) -> None:
        # Threads do not survive fork: each worker process starts its own.
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._watched = set()
                    threading.Thread(target=self._run, name="reaper", daemon=True).start()
                    self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            time.sleep(_REAP_EVERY_S)  # a periodic sweep: deadlines are seconds apart
            now = time.monotonic()
            with self._lock:
                late = [entry for entry in self._watched if entry.deadline <= now]
                for entry in late:
                    entry.expired = True
                    self._watched.discard(entry)
            for entry in late:
                try:
                    entry.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass  # already closed by its handler
