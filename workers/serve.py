"""Serve the API with granian, an established HTTP server, for `make run`, docker-compose
and the tests. On AWS, API Gateway and Lambda serve the same app.

granian (Rust, hyper) parses HTTP/1.1 and enforces the limits from `Settings`:
- the bytes of a request head (`SERVE_MAX_HEAD_BYTES`, 431; more than 100 fields is
  also 431), and the time a head may take to arrive (`SERVE_READ_TIMEOUT_S`), which is
  also how long a kept-alive connection may stay silent: either is then closed;
- connections per worker (`SERVE_MAX_CONNECTIONS`): more wait in the listen backlog
  until one closes;
- framing: a malformed or duplicated Content-Length, or one with Transfer-Encoding, is
  refused or read as chunked and the connection closed, never read two ways.
The app is reached through `workers.wsgi` (the API Gateway event), which refuses a
body over 16,384 bytes before reading it.

One Python process runs one core's worth of the app (the GIL): granian runs
`SERVE_WORKERS` processes (default: one per core, at least 2) on one socket, each with
`SERVE_THREADS` threads for the app, restarts a worker that dies, and stops them all
gracefully on SIGINT or SIGTERM; a worker whose main process is killed stops by itself.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from chalicelib.settings import Settings, get_settings

if TYPE_CHECKING:
    from granian.server import Server


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


def import_request_modules() -> None:
    """Import every module of `chalicelib` before the worker's threads serve.

    The routes import their services, and those the queue and the connectors, on first
    use: cheap cold starts on Lambda, where an environment serves one request at a time.
    Under granian's threads two first requests can import one cycle from its two ends and
    deadlock: a soak's first card payment imported `chalicelib.connectors` (whose
    `__init__` imports `connectors.base`) while another payment's enqueue imported
    `connectors.base` through `queue.kinds`, and Python refused one of them with
    `_DeadlockError`, a 500. Importing all of it here, in one thread, takes ~1 s per worker.
    """
    import importlib
    import pkgutil

    import chalicelib

    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)


def warm_up() -> None:
    """Do before the worker's threads serve what its first requests would otherwise do
    each at once: read the secrets (the two keyrings, and any URL held in one), build the
    routes' validators, and open the database pool and the Redis connection.

    A worker that was cold answered its first four requests (one per thread) 0.7-1 s late
    on this machine, each thread making its own boto3 client under the GIL; granian gives
    a worker its first connection whenever a client happens to land on it, so this hit
    `make bench`'s measured rounds (p99 0.1-0.8 s) and any user after a (re)start. A
    dependency that is down is no reason not to start: the first requests then answer
    503 as they would, and retry the read."""
    import logging

    from chalicelib import db, settings, snapstart
    from chalicelib.adapters.redis_client import get_redis

    snapstart.preload_modules()
    try:
        settings.idempotency_keyring()
        settings.api_key_keyring()
        db.get_pool()  # opens its first connection in the background
        get_redis().ping()
    except Exception as exc:  # the requests will meet it, and say so in their answers
        logging.getLogger(__name__).warning(
            "worker started cold: %s", type(exc).__name__, exc_info=True
        )


def wsgi_app() -> object:
    """The factory each granian worker calls: the stage's app behind the adapter."""
    # First: the main process may be killed while this worker is still importing.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    from chalicelib.settings import reset_settings
    from workers.stage import load_stage
    from workers.wsgi import ChaliceWSGI

    _factory, config, app = load_stage(os.environ.get("STAGE"))
    reset_settings()  # read again with the stage's variables
    import_request_modules()
    warm_up()
    proxies = [p.strip() for p in get_settings().trusted_proxies.split(",") if p.strip()]
    return ChaliceWSGI(app, config, proxies)


def _exit_with_parent(parent: int) -> None:
    """A worker whose main process was killed (SIGKILL) stops within a second: granian's
    workers would otherwise keep serving the port as orphans."""
    while os.getppid() == parent:
        time.sleep(1)
    # Again each second until it stops: a SIGTERM that arrives while granian is still
    # calling the factory (importing, warming up) is lost, and the worker served on.
    while True:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)


def build_server(
    host: str, port: int, workers: int, settings: Settings, target: str = "workers.serve:wsgi_app"
) -> Server:
    """A granian server hosting the WSGI app that the factory `target` makes, with the
    limits of `settings` (`bench.floor_server` hosts its floor the same way)."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    return Granian(
        target,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        http=HTTPModes.http1,
        websockets=False,
        workers=workers,
        blocking_threads=settings.serve_threads,
        backpressure=settings.serve_max_connections,
        http1_settings=HTTP1Settings(
            header_read_timeout=max(1, round(settings.serve_read_timeout_s * 1000)),
            keep_alive=True,
            max_buffer_size=settings.serve_max_head_bytes,
        ),
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=10,
        log_level="warning",
    )


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(description="Serve the gateway API locally (granian)")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument(
        "--workers",
        type=int,
        default=settings.serve_workers or default_workers(),
        help="processes serving the port (default: SERVE_WORKERS, else one per core, at least 2)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    os.environ["STAGE"] = args.stage  # read by each worker's `wsgi_app`
    print(
        f"Serving on http://{args.host}:{args.port} (granian, stage {args.stage},"
        f" {args.workers} worker{'s' if args.workers > 1 else ''})",
        flush=True,
    )
    build_server(args.host, args.port, args.workers, settings).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
