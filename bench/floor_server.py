"""The HTTP accept floor: the cheapest server that does an accept's work over HTTP.

    python -m bench.floor_server PORT WORKERS

As `workers.serve` does, it forks WORKERS processes accepting on one socket, with a
thread per keep-alive connection, TCP_NODELAY and a large backlog. Each request is
parsed by hand (request line, the three headers it needs, Content-Length), the key
looked up once per connection, and `bench.floor.direct_accept` run: the same SQL and
XADD as the gateway's accept. The answer is the payment row as JSON. No framework,
no validation, no contract: what is left is HTTP plus the work itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

from bench.floor import connect, direct_accept
from chalicelib.adapters.redis_client import get_redis
from chalicelib.services.key_hashes import hash_key as server_key_hash

HEAD_END = b"\r\n\r\n"


def _serve_connection(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    redis = get_redis()
    merchants: dict[str, str] = {}
    buffer = b""
    with connect() as conn, sock:
        while True:
            while HEAD_END not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(HEAD_END)
            headers = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip().decode()
            length = int(headers.get(b"content-length", "0"))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            api_key = headers.get(b"authorization", "").partition(" ")[2]
            # The stored form of a key is keyed (services.key_hashes): the same HMAC
            # here, under the API-key keyring's newest version, so the floor looks the
            # key up as the gateway does.
            key_hash = server_key_hash(api_key)
            merchant_id = merchants.get(key_hash)
            if merchant_id is None:
                row = conn.execute(
                    "SELECT merchant_id FROM api_keys WHERE key_hash = %s", (key_hash,)
                ).fetchone()
                merchant_id = merchants[key_hash] = row["merchant_id"]
            row = direct_accept(
                conn, redis, merchant_id, json.loads(body), headers.get(b"idempotency-key")
            )
            payload = json.dumps(row, default=str).encode()
            sock.sendall(
                b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(payload), payload)
            )


def _worker(listener: socket.socket) -> None:
    while True:
        sock, _addr = listener.accept()
        threading.Thread(target=_serve_connection, args=(sock,), daemon=True).start()


def main() -> int:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            try:
                _worker(listener)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(_signum: int, _frame: object) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        os.waitpid(child, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
