"""Serve the API with Chalice's own local server, minus its measured traps.

- Replies are written in two sends (headers, then body); on a kept-alive
  connection Nagle's algorithm and the client's delayed ACK then stall every
  request by ~40 ms. `TCP_NODELAY` on each accepted socket removes the stall.
- The standard library listens with a backlog of 5; a burst of new connections
  gets resets. The backlog is raised.
- `app.current_request` is per thread (Chalice's LocalChalice), so concurrent
  requests never see each other's body or key.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys

from chalice import local

from workers.stage import load_stage


class GatewayHTTPServer(local.ThreadedHTTPServer):
    request_queue_size = 1024

    def get_request(self):  # type: ignore[no-untyped-def]
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr


class QuietRequestHandler(local.ChaliceRequestHandler):
    """The app logs one JSON line per request; the stdlib access log is dropped.

    Chalice's local gateway answers a path no route matches with a 403 whose body
    echoes the Authorization header, that is, the API key. We keep the status (API
    Gateway's) and answer in the contract's format without echoing anything.
    """

    def log_message(self, format: str, *args: object) -> None:
        return

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        # Any other method (TRACE, CONNECT, made-up ones) goes to the app too, which
        # answers 405 in the contract's format instead of the stdlib's HTML 501.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the gateway API locally")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    args = parser.parse_args(argv)
    _factory, config, app = load_stage(args.stage)
    server = make_server(app, config, args.host, args.port)

    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    # Explicit handlers: a process started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    print(f"Serving on http://{args.host}:{args.port} (stage {args.stage})", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
