"""A Lambda Runtime API of our own: what Lambda serves to the runtime in an execution environment.

AWS's runtime interface client (`awslambdaric`, the one the python3.12 runtime runs)
talks to it over HTTP at `AWS_LAMBDA_RUNTIME_API`, as documented in "Using the Lambda
runtime API for custom runtimes" (version 2018-06-01):

- `GET  /2018-06-01/runtime/invocation/next`: blocks until there is an event; answers 200
  with the event as body and the headers `Lambda-Runtime-Aws-Request-Id`,
  `Lambda-Runtime-Deadline-Ms` (Unix ms at which the function times out),
  `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
- `POST /2018-06-01/runtime/invocation/{id}/response`: the result, 202; an unknown id 400,
  a body over 6 MB 413;
- `POST /2018-06-01/runtime/invocation/{id}/error`: `{errorMessage, errorType,
  stackTrace}`, optionally with `Lambda-Runtime-Function-Error-Type` and
  `Lambda-Runtime-Function-XRay-Error-Cause` (the fault for X-Ray, JSON), 202;
- `POST /2018-06-01/runtime/init/error`: the init failed (import, missing handler), 202;
- SnapStart (documented with runtime hooks): `GET /2018-06-01/runtime/restore/next` is
  where the runtime waits while the snapshot is taken, after the before-snapshot hooks
  ran; it returns on restore, and the after-restore hooks run; their failure is posted
  to `POST /2018-06-01/runtime/restore/error`.

One invocation at a time, as in a Lambda execution environment. Every call is recorded
in `calls`, in order. Not part of the deployment zip.
"""

from __future__ import annotations

import json
import math
import queue
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit
ACCOUNT = "123456789012"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"  # optional for invocation errors
XRAY_CAUSE = "Lambda-Runtime-Function-XRay-Error-Cause"  # optional: the fault for X-Ray


@dataclass
class Invocation:
    """One event, what the runtime answered, and when (monotonic seconds)."""

    request_id: str
    event: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    queued_at: float = field(default_factory=time.perf_counter)
    sent_at: float | None = None
    done_at: float | None = None
    response: bytes | None = None
    error: dict[str, Any] | None = None
    error_type: str | None = None
    xray_cause: dict[str, Any] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def result(self) -> Any:
        assert self.response is not None, f"no response: {self.error}"
        return json.loads(self.response)

    @property
    def duration_ms(self) -> float:
        """From the event handed to the runtime to its answer: Lambda's `Duration`."""
        assert self.sent_at is not None and self.done_at is not None
        return (self.done_at - self.sent_at) * 1000

    @property
    def done_at_epoch_ms(self) -> float:
        """When the answer came, in Unix ms (the clock of `deadline_ms`)."""
        assert self.done_at is not None
        return time.time() * 1000 - (time.perf_counter() - self.done_at) * 1000

    @property
    def billed_ms(self) -> int:
        """Lambda bills the duration rounded up to the next millisecond."""
        return math.ceil(self.duration_ms)


class RuntimeApi:
    """The runtime API of one execution environment, on 127.0.0.1 and a free port."""

    def __init__(self, function_name: str, region: str = "us-east-1") -> None:
        self.function_arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}:live"
        self.calls: list[str] = []
        self.init_error: dict[str, Any] | None = None
        self.init_error_type: str | None = None
        self.restore_error: dict[str, Any] | None = None
        #: Set when the runtime waits at /restore/next (the snapshot point).
        self.snapshot_point = threading.Event()
        #: Set by the test to let the runtime go on (the restore).
        self.restore = threading.Event()
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self._by_id: dict[str, Invocation] = {}
        self._closed = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        """What `AWS_LAMBDA_RUNTIME_API` holds: host:port."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def submit(self, event: Any, timeout_s: float, raw: bytes | None = None) -> Invocation:
        """Queue one event, with a deadline `timeout_s` from now (Lambda's: the
        function's timeout from the moment of the invoke)."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            event=raw if raw is not None else json.dumps(event).encode(),
            deadline_ms=int((time.time() + timeout_s) * 1000),
            function_arn=self.function_arn,
            trace_id=f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        )
        self._by_id[invocation.request_id] = invocation
        self._pending.put(invocation)
        return invocation

    def invoking(self) -> bool:
        """Whether an event is with the runtime now (handed out, not yet answered): the
        invoke phase, the only one in which the Parameters and Secrets extension serves."""
        return any(
            i.sent_at is not None and not i.done.is_set() for i in list(self._by_id.values())
        )

    def close(self) -> None:
        self._closed.set()
        self.restore.set()
        self._server.shutdown()
        self._server.server_close()

    # The endpoints (called from the server's threads).

    def next_invocation(self) -> Invocation | None:
        self.calls.append("invocation/next")
        while not self._closed.is_set():
            try:
                invocation = self._pending.get(timeout=0.2)
            except queue.Empty:
                continue
            invocation.sent_at = time.perf_counter()
            return invocation
        return None

    def finish(self, request_id: str, kind: str, body: bytes, headers: Message) -> int:
        self.calls.append(f"invocation/{kind}")
        invocation = self._by_id.get(request_id)
        if invocation is None or invocation.done.is_set():
            return 400
        if kind == "response" and len(body) > MAX_RESPONSE_BYTES:
            return 413
        invocation.done_at = time.perf_counter()
        if kind == "response":
            invocation.response = body
        else:
            invocation.error = json.loads(body or b"{}")
            invocation.error_type = headers.get(ERROR_TYPE)
            cause = headers.get(XRAY_CAUSE)
            invocation.xray_cause = json.loads(cause) if cause else None
        invocation.done.set()
        return 202

    def record_init_error(self, body: bytes, error_type: str | None) -> int:
        self.calls.append("init/error")
        self.init_error = json.loads(body or b"{}")
        self.init_error_type = error_type
        return 202

    def wait_for_restore(self) -> None:
        self.calls.append("restore/next")
        self.snapshot_point.set()
        self.restore.wait()

    def record_restore_error(self, body: bytes) -> int:
        self.calls.append("restore/error")
        self.restore_error = json.loads(body or b"{}")
        return 202


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A runtime stopped mid-request is expected here; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class LocalApiHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, TCP_NODELAY and no access log: the local stand-ins' base
    (this Runtime API, and tests/secrets_extension.py)."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body are separate writes: without this, Nagle's algorithm and
        # the client's delayed ACK hold each answer ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _handler_for(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(LocalApiHandler):
        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if status >= 400 and not body:
                body = json.dumps({"errorMessage": "", "errorType": f"Http{status}"}).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            try:
                self.end_headers()
                self.wfile.write(body)
            except ConnectionError:
                pass  # the runtime's process was stopped while it waited

        def do_GET(self) -> None:
            if self.path == f"{PREFIX}/invocation/next":
                invocation = api.next_invocation()
                if invocation is None:  # shutting down: the runtime must exit
                    self._reply(500)
                    return
                self._reply(
                    200,
                    invocation.event,
                    {
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": invocation.function_arn,
                        "Lambda-Runtime-Trace-Id": invocation.trace_id,
                    },
                )
            elif self.path == f"{PREFIX}/restore/next":
                api.wait_for_restore()
                self._reply(200)
            else:
                self._reply(404)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            error_type = self.headers.get(ERROR_TYPE)
            parts = self.path.removeprefix(PREFIX + "/").split("/")
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                status = api.finish(parts[1], parts[2], body, self.headers)
            elif parts == ["init", "error"]:
                status = api.record_init_error(body, error_type)
            elif parts == ["restore", "error"]:
                status = api.record_restore_error(body)
            else:
                status = 404
            accepted = json.dumps({"status": "OK"}).encode() if status == 202 else b""
            self._reply(status, accepted)

    return Handler
