"""The local HTTP server and request handler: Chalice's own, with our socket settings and limits.

`make_server` gives Chalice's `LocalDevServer` with `GatewayHTTPServer` (no Nagle
stall, a deep listen backlog, a bound on connections) and `QuietRequestHandler`
(the contract's error body for everything the server refuses itself, and the
limits of `workers.http_limits`).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from chalice import local

from chalicelib.errors import GatewayError, InvalidRequestError, RequestTimeoutError
from workers.accept_balance import AcceptBalance
from workers.http_head import (
    Fields,
    HeadError,
    closes_after,
    parse_clean_head,
    parse_request_line,
    read_fields,
)
from workers.http_limits import (
    MAX_HEADER_BYTES,
    TOO_MANY_CONNECTIONS,
    Limits,
    Reaper,
    RequestRefusedError,
    Watch,
    clean_content_length,
    content_length,
    error_for_status,
    error_response,
    framing_error,
    kernel_timeouts,
)
from workers.local_gateway import GatewayLocalGateway, set_peer_address

LINGER_S = 1.0
LINGER_MAX_BYTES = 1 << 20

#: (second, its Date header value), shared by the process's handler threads
_date: tuple[int, str] = (0, "")


class GatewayHTTPServer(local.ThreadedHTTPServer):
    """Threaded server: TCP_NODELAY, backlog 1024, at most `max_connections` at once."""

    request_queue_size = 1024
    #: Set by `workers.serve` when several worker processes share the socket.
    balance: AcceptBalance | None = None

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.limits = Limits.from_env()
        self.reaper = Reaper()
        # Made before the workers fork: each worker process gets its own count.
        self._slots = threading.BoundedSemaphore(self.limits.max_connections)

    def get_request(self):  # type: ignore[no-untyped-def]
        if self.balance is not None:
            self.balance.wait_turn()
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if not self._slots.acquire(blocking=False):
            self._turn_away(request)
            return
        self._opened()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed()
            raise

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed()

    def _opened(self) -> None:
        if self.balance is not None:
            self.balance.opened()

    def _closed(self) -> None:
        self._slots.release()
        if self.balance is not None:
            self.balance.closed()

    def _turn_away(self, sock: socket.socket) -> None:
        """503 on the accepting thread, without starting one: the answer fits any send buffer."""
        try:
            sock.sendall(TOO_MANY_CONNECTIONS)
            # Read what already arrived, so that closing sends FIN and not a reset
            # that could discard our answer before the client reads it.
            while sock.recv(65536, socket.MSG_DONTWAIT):
                pass
        except OSError:
            pass  # BlockingIOError: nothing more to read; or the client is gone
        self.shutdown_request(sock)


class QuietRequestHandler(local.ChaliceRequestHandler):
    """The app logs one JSON line per request; the stdlib access log is dropped.

    Chalice's local gateway answers a path no route matches with a 403 whose body
    echoes the Authorization header, that is, the API key. We keep the status (API
    Gateway's) and answer in the contract's format without echoing anything.
    Every answer the server gives itself (limits, malformed requests) is in the
    contract's format too.
    """

    server: GatewayHTTPServer
    fields: Fields
    _message: Any = None
    _watch: Watch | None = None

    def __init__(self, request, client_address, server, app_object, config) -> None:  # type: ignore[no-untyped-def]
        # Chalice's handler makes its LocalGateway here, then serves the connection
        # (the stdlib handles it inside __init__): ours must be in place first.
        self.local_gateway = GatewayLocalGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def log_message(self, format: str, *args: object) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once a second (the stdlib formats it per answer
        through `email.utils`: ~4 µs, 1-2 % of an accept's CPU)."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        global _date
        second = int(time.time())
        if _date[0] != second:
            _date = (second, super().date_time_string(second))
        return _date[1]

    def _send_http_response_with_body(
        self, code: int, headers: dict[str, Any], body: str | bytes
    ) -> None:
        """Chalice's answer (the same status line and headers, in the same order), with
        head and body in one send: Chalice's `end_headers` sends the head alone, one
        more syscall and TCP segment per answer. The head is formatted in one go, as
        `send_response` and `send_header` would, line by line, format it."""
        if not isinstance(body, bytes):
            body = body.encode("utf-8")
        if self.request_version == "HTTP/0.9":  # as end_headers: 0.9 answers have no head
            self.wfile.write(body)
            return
        reason = self.responses[code][0] if code in self.responses else ""
        content_type = headers.pop("Content-Type", "application/json")
        head = [
            f"{self.protocol_version} {code} {reason}\r\n"
            f"Server: {self.server_version} {self.sys_version}\r\n"
            f"Date: {self.date_time_string()}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Content-Type: {content_type}\r\n"
        ]
        for name, value in headers.items():
            for one in value if isinstance(value, list) else (value,):
                head.append(f"{name}: {one}\r\n")
                if name.lower() == "connection":  # as send_header
                    if one.lower() == "close":
                        self.close_connection = True
                    elif one.lower() == "keep-alive":
                        self.close_connection = False
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1", "strict") + body)

    def _generic_handle(self) -> None:
        """Chalice's: the request to the gateway, its answer to the client (without
        copying the answer's headers first: Chalice's `to_dict` made them a dict of
        their own)."""
        headers, body = self._parse_payload()
        try:
            response = self.local_gateway.handle_request(self.command, self.path, headers, body)
        except local.LocalGatewayException as error:
            self._send_error_response(error)
            return
        headers = response["headers"]
        headers.update(response["multiValueHeaders"])
        body = response["body"]
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body)
        self._send_http_response(response["statusCode"], headers, body)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        # Any other method (TRACE, CONNECT, made-up ones) goes to the app too, which
        # answers 405 in the contract's format instead of the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def setup(self) -> None:
        # How long a kept-alive connection may say nothing, and how long a write may
        # stall on a client that does not read: in the kernel, else Python's timeout.
        idle = self.server.limits.idle_timeout_s
        self.timeout = None if kernel_timeouts(self.request, idle) else idle
        super().setup()

    def handle_one_request(self) -> None:
        try:
            if not self.rfile.peek(1):  # the client closed its kept-alive connection
                self.close_connection = True
                return
        except OSError:  # TimeoutError: idle for too long
            self.close_connection = True
            return
        set_peer_address(self.client_address[0])
        # From the request's first byte, its head and body must arrive in time.
        self._watch = self.server.reaper.watch(self.connection, self.server.limits.read_timeout_s)
        try:
            if not self._serve_plain_request():
                super().handle_one_request()
        except RequestRefusedError as refused:
            self._refuse(refused.error)
        except (TimeoutError, BlockingIOError):  # a read or an answer stalled: close
            self.close_connection = True
        finally:
            self._stop_watch()

    def _serve_plain_request(self) -> bool:
        """Serve a request whose whole head is already buffered and plain (see
        `parse_clean_head`, `clean_content_length`) as `handle_one_request` would, in
        one pass; False, having read nothing, for any other: the general path decides."""
        buffered = self.rfile.peek()
        end = buffered.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES)
        if end < 0:
            return False
        parsed = parse_clean_head(buffered[: end + 4])
        if parsed is None:
            return False
        line, fields = parsed
        if clean_content_length(fields) is None:
            return False
        self.rfile.read(end + 4)  # the whole head, now parsed
        self.requestline = f"{line.command} {line.path} {line.version}"
        self.raw_requestline = (self.requestline + "\r\n").encode("iso-8859-1")
        self.command, self.path, self.request_version = line.command, line.path, line.version
        self.fields, self._message = fields, None
        self.close_connection = closes_after(line, fields, self.protocol_version)
        self._generic_handle()
        self.wfile.flush()
        return True

    @property
    def headers(self):  # type: ignore[no-untyped-def]
        """The standard library's `HTTPMessage` of the fields, made when first asked for."""
        if self._message is None:
            self._message = self.fields.as_message()
        return self._message

    @headers.setter
    def headers(self, message) -> None:  # type: ignore[no-untyped-def]
        self._message = message

    def parse_request(self) -> bool:
        """The standard library's parse (command, path, version, keep-alive, headers), by
        `workers.http_head` instead of `email.parser`; then our framing checks."""
        self.command = None  # as the standard library: set in case the line is refused
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        try:
            line = parse_request_line(
                self.requestline, self.default_request_version, self.protocol_version
            )
            if line is None:
                return False
            self.request_version = line.version
            self.command, self.path = line.command, line.path
            self.fields = read_fields(self.rfile.readline)
            self.close_connection = closes_after(line, self.fields, self.protocol_version)
        except HeadError as refused:
            self.send_error(refused.status)
            return False
        self._message = None  # `headers`, made when first asked for
        if self._late():  # the head was cut short by the deadline
            self._refuse(RequestTimeoutError("The request did not arrive in time."))
            return False
        error = framing_error(self.fields)  # before a 100 Continue invites the body
        if error is not None:
            self._refuse(error)
            return False
        expect = (self.fields.get("Expect") or "").lower()
        if expect == "100-continue" and self.protocol_version >= self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _parse_payload(self) -> tuple[dict[str, str], bytes | None]:
        length = content_length(self.fields)  # checked by parse_request
        # The socket file reads None when the kernel's read timeout expired on nothing.
        body = (self.rfile.read(length) or b"") if length > 0 else None
        if body is not None and len(body) < length:  # cut by the deadline, or the client left
            raise RequestRefusedError(
                RequestTimeoutError("The request did not arrive in time.")
                if self._late()
                else InvalidRequestError("The body is shorter than its Content-Length.")
            )
        self._stop_watch()  # the app's own time is not the client's
        return self.fields.as_dict(), body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (400, 414, 431, 505) in the contract's format."""
        if self._late():
            self._refuse(RequestTimeoutError("The request did not arrive in time."))
        else:
            self._refuse(error_for_status(int(code)))

    def _send_error_response(self, error: local.LocalGatewayException) -> None:
        body = json.dumps(
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "message": "No route matches this method and path.",
                }
            }
        )
        headers = {k: v for k, v in error.headers.items() if k.lower() != "x-amzn-errortype"}
        headers["Content-Type"] = "application/json"
        self._send_http_response(error.CODE, headers, body)

    def _late(self) -> bool:
        return self._watch is not None and self._watch.expired

    def _stop_watch(self) -> None:
        self.server.reaper.unwatch(self._watch)
        if self._watch is not None and not self._watch.expired:
            self._watch = None

    def _refuse(self, error: GatewayError) -> None:
        """Answer `error` in the contract's format and close: the body was not read."""
        self.close_connection = True
        status, payload, headers = error_response(
            error, head_only=getattr(self, "command", "") == "HEAD"
        )
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            self._linger()
        except OSError:
            pass  # the client is gone

    def _linger(self) -> None:
        """Half-close, then discard what the client still sends, briefly.

        Closing with unread bytes (the body we refused) sends a reset, which can
        make the client drop our answer before reading it.
        """
        sock = self.connection
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_S)
        deadline = time.monotonic() + LINGER_S
        discarded = 0
        while time.monotonic() < deadline and discarded < LINGER_MAX_BYTES:
            chunk = sock.recv(65536)
            if not chunk:
                return
            discarded += len(chunk)


def make_server(app, config, host: str, port: int) -> local.LocalDevServer:  # type: ignore[no-untyped-def]
    """Chalice's LocalDevServer with our socket settings and a per-thread current_request."""
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice
    return local.LocalDevServer(
        app,
        config,
        host,
        port,
        handler_cls=QuietRequestHandler,
        server_cls=GatewayHTTPServer,
    )
