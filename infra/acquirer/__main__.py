"""Run the acquirer service: `python -m infra.acquirer --port 18090 --data-dir .stack/acquirer`.

Serves until SIGINT/SIGTERM. "Down" (POST /admin/down) closes the listening socket and
aborts every open connection, so clients get "connection refused" for N seconds, then
listens again on the same port. The books survive restarts (SQLite under --data-dir).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from aiohttp import web

from infra.acquirer.books import Books
from infra.acquirer.server import build_app


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


class Service:
    """The runner, its one listening site, and the down/up cycle."""

    def __init__(self, host: str, port: int, data_dir: Path) -> None:
        self.host, self.port = host, port
        # ACQUIRER_AUTHORIZATION_TTL_S: how long an authorization may be captured
        ttl_s = float(os.environ.get("ACQUIRER_AUTHORIZATION_TTL_S", str(7 * 86400)))
        self.books = Books(data_dir, authorization_ttl_s=ttl_s)
        self.runner = web.AppRunner(
            build_app(self.books, self.go_down), access_log=None, shutdown_timeout=1
        )
        self.site: web.SockSite | None = None
        self.sock: socket.socket | None = None

    async def listen(self) -> None:
        self.sock = _listen(self.host, self.port)
        self.site = web.SockSite(self.runner, self.sock, backlog=4096)
        await self.site.start()

    async def go_down(self, seconds: float) -> None:
        """Refuse connections for `seconds`: stop listening and drop open connections."""
        if self.site is None:
            return
        site, self.site = self.site, None
        await site.stop()
        if self.sock is not None:
            self.sock.close()
        server = self.runner.server
        for handler in list(server.connections if server else []):
            if handler.transport is not None:
                handler.transport.abort()
        asyncio.get_running_loop().call_later(seconds, lambda: asyncio.ensure_future(self.listen()))

    async def serve(self) -> None:
        await self.runner.setup()
        given_back = self.books.recover()
        if given_back:
            print(f"acquirer: {given_back} key(s) of requests cut short by a stop given back")
        await self.listen()
        print(f"acquirer listening on http://{self.host}:{self.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        with contextlib.suppress(Exception):
            await self.runner.cleanup()
        self.books.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The local acquirer service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--data-dir", type=Path, default=Path(".stack/acquirer"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(Service(args.host, args.port, args.data_dir).serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
