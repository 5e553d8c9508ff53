"""The HTTP accept floor: the same server as ours hosting a bare WSGI callable.

    python -m bench.floor_server PORT WORKERS

granian, built by `workers.serve.build_server` with the same settings (workers,
threads, limits), serves a WSGI callable that reads the key and the body, looks the
key up once per thread and runs `bench.floor.direct_accept`: the same SQL and XADD as
the gateway's accept. The answer is the payment row as JSON. No Chalice, adapter,
validation or contract: what `ratio` measures is what our app and adapter add.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from bench.floor import connect, direct_accept
from chalicelib import settings
from chalicelib.adapters.redis_client import get_redis
from chalicelib.services.key_hashes import hash_key as server_key_hash

_local = threading.local()


def floor_app() -> Callable[..., Iterable[bytes]]:
    """The factory each granian worker calls."""
    return accept


def accept(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """One accept: the key's lookup (cached per thread), then the accept's statements."""
    if not hasattr(_local, "conn"):
        _local.conn, _local.merchants = connect(), {}
    api_key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    # The stored form of a key (services.key_hashes): the same keyed hash here, so the
    # floor looks the key up as the gateway does.
    key_hash = server_key_hash(api_key)
    merchant_id = _local.merchants.get(key_hash)
    if merchant_id is None:
        row = _local.conn.execute(
            "SELECT merchant_id FROM api_keys WHERE key_hash = %s", (key_hash,)
        ).fetchone()
        merchant_id = _local.merchants[key_hash] = row["merchant_id"]
    row = direct_accept(
        _local.conn, get_redis(), merchant_id, body, environ.get("HTTP_IDEMPOTENCY_KEY")
    )
    payload = json.dumps(row, default=str).encode()
    start_response(
        "202 Accepted",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def main() -> int:
    from workers.serve import build_server

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    server = build_server(
        "127.0.0.1", port, workers, settings.get_settings(), "bench.floor_server:floor_app"
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
