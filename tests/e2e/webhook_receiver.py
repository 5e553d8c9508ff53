"""A real HTTP webhook receiver on 127.0.0.1 that verifies every delivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook

# What the receiver does with its n-th request (1-based): an HTTP status, or "hang".
Behaviour = Callable[[int], int | str]


@dataclass
class Received:
    at: float
    webhook_id: str
    timestamp: str
    body: dict[str, Any]
    verified: bool
    error: str | None = None


@dataclass
class Receiver:
    behaviour: Behaviour
    secret: str | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks?src=test"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = False, None
                try:
                    assert receiver.secret is not None
                    Webhook(receiver.secret).verify(raw, headers)
                    verified = True
                except Exception as exc:  # recorded, asserted by the test
                    error = f"{type(exc).__name__}: {exc}"
                with receiver.lock:
                    receiver.received.append(
                        Received(
                            time.monotonic(),
                            headers.get("webhook-id", ""),
                            headers.get("webhook-timestamp", ""),
                            json.loads(raw),
                            verified,
                            error,
                        )
                    )
                    n = len(receiver.received)
                action = receiver.behaviour(n)
                if action == "hang":
                    receiver.release.wait(30)
                    return
                body = b'{"ok":true}' if action < 300 else b"x" * 5000  # snippet is bounded
                self.send_response(int(action))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        ThreadingHTTPServer.request_queue_size = 256  # bursts of concurrent deliveries
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)
