"""The local server's idle timeout, over raw sockets: a kept-alive connection that says
nothing, and a client that reads none of its answers, are each cut after
`SERVE_IDLE_TIMEOUT_S` and free their slot (`workers.http_limits.kernel_timeouts`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, start_server, stop_server, wait_until
from tests.e2e.test_server_limits import _port, _read_response, _served_health

MAX_CONNECTIONS = 2
IDLE_S = 1.0


@pytest.fixture
def idle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One worker, two connections at most, one second of silence allowed."""
    server = start_server(
        tmp_path_factory.mktemp("idle"),
        {
            "SERVE_WORKERS": "1",
            "SERVE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "SERVE_READ_TIMEOUT_S": "5",
            "SERVE_IDLE_TIMEOUT_S": str(IDLE_S),
        },
    )
    yield server
    stop_server(server)


def _slots_free(port: int) -> bool:
    """Whether both slots serve a request at once (a held slot answers 503)."""
    opened = [_served_health(port) for _ in range(MAX_CONNECTIONS)]
    for sock in opened:
        if sock is not None:
            sock.close()
    return all(sock is not None for sock in opened)


def test_a_silent_kept_alive_connection_is_closed_after_the_idle_timeout(idle_server) -> None:
    port = _port(idle_server)
    sock = wait_until(lambda: _served_health(port))
    started = time.monotonic()
    try:
        sock.settimeout(10)
        assert sock.recv(1) == b"", "the server should have closed the silent connection"
        waited = time.monotonic() - started
        assert IDLE_S * 0.8 <= waited < IDLE_S + 4, waited
    finally:
        sock.close()
    wait_until(lambda: _slots_free(port), timeout=10)


def test_a_connection_that_keeps_asking_is_not_cut(idle_server) -> None:
    port = _port(idle_server)
    sock = wait_until(lambda: _served_health(port))
    try:
        for _ in range(4):  # 2 s in all, each pause under the idle timeout
            time.sleep(IDLE_S / 2)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock)[0] == 200  # fails if the server closed instead
    finally:
        sock.close()


def _stalled(port: int) -> socket.socket | None:
    """A connection with a small receive buffer that asks for ~3.6 MB of answers (the
    OpenAPI document, pipelined) and reads only the start of the first; None if it was
    turned away (503: a slot still held by a connection closed a moment ago)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 64)
        if sock.recv(12) == b"HTTP/1.1 200":
            return sock
    except OSError:
        pass
    sock.close()
    return None


def test_a_client_that_reads_no_answer_is_cut_and_frees_its_slot(idle_server) -> None:
    port = _port(idle_server)
    wait_until(lambda: _slots_free(port))
    stalled = [wait_until(lambda: _stalled(port)) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.3)
        assert _served_health(port) is None, "both slots should be held by the stalled clients"
        started = time.monotonic()
        wait_until(lambda: _slots_free(port), timeout=15)
        assert time.monotonic() - started < IDLE_S + 6
    finally:
        for sock in stalled:
            sock.close()
