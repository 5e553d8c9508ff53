"""The HTTP accept floors: the same server as ours hosting the floor's accept.

    python -m bench.floor_server PORT WORKERS [--chalice]

granian, built by `workers.serve.build_server` with the same settings (workers,
threads, limits), serves a WSGI callable that reads the key and the body, looks the
key up once per thread and runs `bench.floor.direct_accept`: the same SQL and XADD as
the gateway's accept. The answer is the payment row as JSON. No Chalice, adapter,
validation or contract: what `ratio` measures is what our app and adapter add.

With `--chalice` the same accept is the one route of a bare Chalice app behind our
adapter (`workers.wsgi`): what Chalice and the adapter cost by themselves, without
our middleware, authentication, validation, idempotency or contract.
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
    """The factory each granian worker calls: warmed as ours is (the secrets read, the
    connections open) before it serves."""
    from workers.serve import warm_up

    warm_up()
    return accept


def chalice_floor_app() -> Callable[..., Iterable[bytes]]:
    """The factory for `--chalice`: the floor's accept as a Chalice route, adapted."""
    from chalice import Chalice, Response
    from chalice.config import Config

    from workers.serve import warm_up
    from workers.wsgi import ChaliceWSGI

    warm_up()
    app = Chalice(app_name="chalice-floor")

    @app.route("/api/v1/payments", methods=["POST"], content_types=["*/*"])
    def create_payment() -> Response:
        request = app.current_request
        payload = floor_accept(
            request.headers.get("authorization", ""),
            request.raw_body,
            request.headers.get("idempotency-key"),
        )
        return Response(payload, status_code=202, headers={"Content-Type": "application/json"})

    return ChaliceWSGI(app, Config())


def accept(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """One accept as a bare WSGI callable."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    payload = floor_accept(
        environ.get("HTTP_AUTHORIZATION", ""),
        environ["wsgi.input"].read(length),
        environ.get("HTTP_IDEMPOTENCY_KEY"),
    ).encode()
    start_response(
        "202 Accepted",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def floor_accept(authorization: str, raw_body: bytes, idempotency_key: str | None) -> str:
    """The key's lookup (cached per thread), then the accept's statements; the row as JSON."""
    if not hasattr(_local, "conn"):
        _local.conn, _local.merchants = connect(), {}
    api_key = authorization.partition(" ")[2]
    body = json.loads(raw_body)
    # The stored form of a key (services.key_hashes): the same keyed hash here, so the
    # floor looks the key up as the gateway does.
    key_hash = server_key_hash(api_key)
    merchant_id = _local.merchants.get(key_hash)
    if merchant_id is None:
        row = _local.conn.execute(
            "SELECT merchant_id FROM api_keys WHERE key_hash = %s", (key_hash,)
        ).fetchone()
        merchant_id = _local.merchants[key_hash] = row["merchant_id"]
    row = direct_accept(_local.conn, get_redis(), merchant_id, body, idempotency_key)
    return json.dumps(row, default=str)


def main() -> int:
    from workers.serve import build_server

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    factory = "chalice_floor_app" if "--chalice" in sys.argv[3:] else "floor_app"
    server = build_server(
        "127.0.0.1", port, workers, settings.get_settings(), f"bench.floor_server:{factory}"
    )
    server.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
