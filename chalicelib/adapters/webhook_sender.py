"""Signing and sending one webhook delivery (Standard Webhooks), standard library only.

- Signature: `v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>` keyed with the
  base64-decoded part of the secret after `whsec_`.
- Transport: `http.client`, which never follows redirects; the connection goes to
  an address the SSRF guard has just approved for this very attempt.
- One total deadline per send: every phase (connect, TLS, request, headers, body)
  gets at most what is left of `timeout_s`, and a timer shuts the socket down when
  it passes, so a receiver trickling a byte at a time cannot stretch a send.
- At most `MAX_ADDRESSES` of the host's vetted addresses are tried per send.
- Several secrets (after a rotation) give several signatures, space separated, in
  the one `webhook-signature` header (Standard Webhooks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.adapters.url_guard import CheckedUrl, UnsafeUrlError, check_url

# A prefix, not a secret (ruff S105, bandit B105 are false positives here).
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105
SECRET_BYTES = 32
MAX_SNIPPET_BYTES = 1024
USER_AGENT = "payment-gateway-webhooks/1"
MAX_ADDRESSES = 2

_ssl_context: ssl.SSLContext | None = None


def new_secret() -> str:
    """A new signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signatures(secrets_: list[str], message_id: str, timestamp: int, body: str) -> str:
    """The header value for several secrets: `v1,<sig> v1,<sig>` (newest first)."""
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_)


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class SendResult:
    """What one attempt produced; `ok` is a 2xx answer within the timeout."""

    ok: bool
    response_status: int | None
    response_body: str | None
    error: str | None
    duration_ms: int


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a given, already vetted address instead of resolving the host again."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.raw_sock = socket.create_connection((self._address, self.port), self.timeout)
        self.raw_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.raw_sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address; the certificate is still checked against the host name."""

    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.raw_sock = raw  # the deadline timer can shut it down mid-handshake
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _tls_context() -> ssl.SSLContext:
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


def _connection(target: CheckedUrl, address: str, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target.host, target.port, address, timeout, _tls_context())
    return _PinnedHTTPConnection(target.host, target.port, address, timeout)


def send(
    url: str,
    *,
    message_id: str,
    body: str,
    secret: str | list[str],
    timeout_s: float,
    allow_private: bool,
) -> SendResult:
    """POST one signed message; never raises, every failure is described in the result."""
    started = time.monotonic()
    deadline = started + timeout_s
    expired = threading.Event()
    live: list[http.client.HTTPConnection] = []

    def expire() -> None:  # the total deadline: whatever phase the send is in, it ends
        expired.set()
        for conn_ in live:
            for sock in (getattr(conn_, "raw_sock", None), conn_.sock):
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    def left() -> float:
        return max(0.001, deadline - time.monotonic())

    try:
        target = check_url(url, allow_private=allow_private)
    except UnsafeUrlError as exc:
        return SendResult(False, None, None, f"refused: {exc}", elapsed_ms())
    timestamp = int(time.time())
    payload = body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Connection": "close",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures(
            [secret] if isinstance(secret, str) else secret, message_id, timestamp, body
        ),
    }
    conn: http.client.HTTPConnection | None = None
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    timer.daemon = True
    timer.start()
    timed_out = f"timed out after {timeout_s:g}s"
    try:
        conn = _connect_any(target, left, live.append)
        conn.request("POST", target.path, body=payload, headers=headers)
        conn.sock.settimeout(left())
        response = conn.getresponse()
        if conn.sock is not None:
            conn.sock.settimeout(left())
        raw = response.read(MAX_SNIPPET_BYTES)
        if expired.is_set():  # the answer did not complete within the deadline
            return SendResult(False, None, None, timed_out, elapsed_ms())
        # Postgres text cannot hold NUL; the snippet is for humans, so it is dropped.
        snippet = raw.decode("utf-8", errors="replace").replace("\x00", "")
        status = response.status
        ok = 200 <= status < 300
        error = None
        if 300 <= status < 400:
            error = "redirects are not followed"
        elif not ok:
            error = f"HTTP {status}"
        return SendResult(ok, status, snippet, error, elapsed_ms())
    except TimeoutError:
        return SendResult(False, None, None, timed_out, elapsed_ms())
    except ssl.SSLError as exc:
        error = timed_out if expired.is_set() else f"TLS error: {exc.reason or 'handshake failed'}"
        return SendResult(False, None, None, error, elapsed_ms())
    except (OSError, http.client.HTTPException) as exc:
        # After the timer fired, a reset or a short read is the deadline's doing.
        error = timed_out if expired.is_set() else _describe(exc)
        return SendResult(False, None, None, error, elapsed_ms())
    except Exception as exc:
        # Anything else (a URL http.client cannot encode, a bug) is this attempt's
        # failure, never the caller's: one receiver must not stop the others' run.
        return SendResult(False, None, None, _describe(exc), elapsed_ms())
    finally:
        timer.cancel()
        if conn is not None:
            conn.close()


def _connect_any(
    target: CheckedUrl,
    left: Callable[[], float],
    on_connection: Callable[[http.client.HTTPConnection], None],
) -> http.client.HTTPConnection:
    """Connect to the first vetted address that accepts (at most MAX_ADDRESSES tried);
    a timeout is not retried."""
    last_error: OSError = ConnectionError("no address to connect to")
    for address in target.addresses[:MAX_ADDRESSES]:  # every one of them passed the guard
        conn = _connection(target, address, left())
        on_connection(conn)
        try:
            conn.connect()
            return conn
        except TimeoutError:
            conn.close()
            raise
        except OSError as exc:
            conn.close()
            last_error = exc
    raise last_error


def _describe(exc: BaseException) -> str:
    """A short error text for the attempt log (no stack traces, nothing secret)."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed without a response"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc.strerror or exc}"[:200]
    if isinstance(exc, UnicodeError):
        return "url cannot be sent: it is not ASCII"
    return type(exc).__name__
