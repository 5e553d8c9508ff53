"""The HTTP server (granian through `workers.wsgi`): no keep-alive stall, no request
mixing, one log line per request, its workers; and `chalice local` still serves the app."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.support import ROOT, free_port, start_server, wait_until

# A reply written in two sends (headers, then body) on a kept-alive connection without
# TCP_NODELAY waits for the client's delayed ACK: ~40-44 ms per request
# (docs/architecture.md, "Known traps"). The request rate is a figure of `make bench`.
NAGLE_STALL_MS = 40


def test_a_kept_alive_connection_answers_without_the_nagle_stall(live_server) -> None:
    """50 requests in sequence on one connection: each answer keeps it open, and the
    median request takes less than the stall alone would."""
    host, port = live_server.base_url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", "/health")  # warm-up: the worker's pools
        conn.getresponse().read()
        first_socket = conn.sock
        durations = []
        for _ in range(50):
            started = time.perf_counter()
            conn.request("GET", "/health")
            response = conn.getresponse()
            response.read()
            durations.append((time.perf_counter() - started) * 1000)
            assert response.status == 200 and not response.will_close
        assert conn.sock is first_socket  # one connection throughout
    finally:
        conn.close()
    assert statistics.median(durations) < NAGLE_STALL_MS, sorted(durations)


def test_the_backlog_takes_a_burst_of_connections(live_server) -> None:
    port = int(live_server.base_url.rsplit(":", 1)[1])
    sockets = []
    try:
        for _ in range(200):  # far beyond the stdlib's backlog of 5
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        for sock in sockets[:20]:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        for sock in sockets[:20]:
            assert sock.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()


def test_two_merchants_concurrent_requests_never_mix(live_server, merchant, other_merchant) -> None:
    """Chalice issue 759: current_request shared between threads. Ours is per thread."""
    mine, theirs = [], []

    def create(api_key: str, merchant_id: str, out: list) -> None:
        with live_server.client(api_key) as client:
            for _ in range(25):
                order = f"{merchant_id[-6:]}_{uuid.uuid4().hex[:10]}"
                response = client.post(
                    "/api/v1/payments",
                    json={"order_id": order, "amount": 100, "currency": "USD", "method": "upi"},
                )
                assert response.status_code == 202, response.text
                out.append((order, response.json()))

    threads = [
        threading.Thread(target=create, args=(merchant.api_key, merchant.merchant_id, mine))
        for _ in range(3)
    ] + [
        threading.Thread(
            target=create, args=(other_merchant.api_key, other_merchant.merchant_id, theirs)
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mine) == len(theirs) == 75
    for order, payment in mine + theirs:
        assert payment["order_id"] == order  # the body answered is the body sent
    with live_server.client(merchant.api_key) as client:
        for _order, payment in theirs[:10]:
            assert client.get(f"/api/v1/payments/{payment['id']}").status_code == 404


def test_concurrent_clients_all_get_answers(live_server, merchant) -> None:
    def work(_: int) -> int:
        with live_server.client(merchant.api_key) as client:
            return sum(client.get("/api/v1/payments?limit=1").status_code == 200 for _ in range(10))

    with ThreadPoolExecutor(16) as pool:
        assert sum(pool.map(work, range(16))) == 160


def test_one_json_log_line_per_request_without_secrets(live_server, merchant) -> None:
    marker = uuid.uuid4().hex
    with live_server.client(merchant.api_key) as client:
        response = client.post(
            "/api/v1/payments",
            json={
                "order_id": f"log_{marker}",
                "amount": 100,
                "currency": "USD",
                "method": "card",
                "card": {
                    "number": "4242424242424242",
                    "exp_month": 12,
                    "exp_year": 2099,
                    "cvc": "321",
                },
            },
        )
    request_id = response.headers["request-id"]

    def lines_of_this_request() -> list[dict]:
        lines = [
            json.loads(line) for line in live_server.log_text().splitlines() if line.startswith("{")
        ]
        return [line for line in lines if line.get("request_id") == request_id]

    mine = wait_until(lines_of_this_request, timeout=10, step=0.05)
    assert len(mine) == 1
    entry = mine[0]
    assert entry["method"] == "POST" and entry["path"] == "/api/v1/payments"
    assert entry["status"] == 202 and entry["merchant_id"] == merchant.merchant_id
    assert entry["duration_ms"] >= 0
    text = live_server.log_text()
    assert merchant.api_key not in text
    assert "4242424242424242" not in text


def test_every_answer_has_a_request_id(live_server) -> None:
    for path in ["/health", "/api/v1/payments", "/api/v1/openapi.json"]:
        assert httpx.get(live_server.base_url + path).headers.get("request-id")


# ------------------------------------------------------------------ worker processes
def _workers_of(parent_pid: int) -> set[int]:
    """granian's worker processes: the children of its main process."""
    children = f"/proc/{parent_pid}/task/{parent_pid}/children"
    try:
        with open(children) as f:
            return {int(pid) for pid in f.read().split()}
    except FileNotFoundError:
        return set()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_are_restarted_and_stop_gracefully(tmp_path) -> None:
    server = start_server(tmp_path, {"SERVE_WORKERS": "3"})
    try:
        workers = wait_until(
            lambda: (
                _workers_of(server.process.pid)
                if len(_workers_of(server.process.pid)) == 3
                else None
            )
        )
        # Fresh connections, spread by the kernel over the workers, are all answered.
        with ThreadPoolExecutor(10) as pool:
            codes = list(
                pool.map(lambda _: httpx.get(f"{server.base_url}/health").status_code, range(30))
            )
        assert codes == [200] * 30
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(_workers_of(server.process.pid) - {victim}) == 3, timeout=15)
        wait_until(lambda: httpx.get(f"{server.base_url}/health").status_code == 200)
        workers = _workers_of(server.process.pid)
    finally:
        # SIGTERM: a graceful stop; a worker still starting is killed after 10 s.
        server.process.terminate()
        server.process.wait(timeout=30)
    assert server.process.returncode == 0, server.log_text()[-3000:]
    wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=10)


def test_workers_stop_when_the_main_process_is_killed(tmp_path) -> None:
    server = start_server(tmp_path, {"SERVE_WORKERS": "2"})
    workers = wait_until(
        lambda: (
            _workers_of(server.process.pid) if len(_workers_of(server.process.pid)) == 2 else None
        )
    )
    server.process.kill()
    server.process.wait(timeout=10)
    # Orphaned workers notice within a second and stop; the port is free again.
    wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=10)
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_sigint_stops_the_server_gracefully(tmp_path) -> None:
    server = start_server(tmp_path, {"SERVE_WORKERS": "1"})
    assert httpx.get(f"{server.base_url}/health").status_code == 200
    server.process.send_signal(signal.SIGINT)  # Ctrl-C
    assert server.process.wait(timeout=15) == 0
    port = int(server.base_url.rsplit(":", 1)[1])
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


# ------------------------------------------------------------------ chalice local
def test_chalice_local_still_serves_the_app(tmp_path, merchant) -> None:
    """The design card's plain development server: `chalice local` on the test stage."""
    port = free_port()
    log = open(tmp_path / "chalice-local.log", "wb")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
            "--stage",
            "test",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, "STAGE": "test"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=60)
        headers = {"Authorization": f"Bearer {merchant.api_key}"}
        order = f"local_{uuid.uuid4().hex[:12]}"
        created = httpx.post(
            f"{base}/api/v1/payments",
            headers=headers,
            json={"order_id": order, "amount": 100, "currency": "USD", "method": "upi"},
            timeout=10,
        )
        assert created.status_code == 202, created.text
        fetched = httpx.get(f"{base}/api/v1/payments/{created.json()['id']}", headers=headers)
        assert fetched.status_code == 200 and fetched.json()["order_id"] == order
        refused = httpx.get(f"{base}/api/v1/payments", timeout=10)
        assert refused.status_code == 401 and refused.json()["error"]["type"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
