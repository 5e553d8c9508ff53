"""The server's deadlines and connection cap, over raw sockets: a client that trickles
its head is cut off, a silent kept-alive connection is closed (both after
`SERVE_READ_TIMEOUT_S`), and a worker holds at most `SERVE_MAX_CONNECTIONS`
connections (more wait in the backlog until one closes).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.e2e.test_server_limits import _port, _read_response
from tests.support import LiveServer, start_server, stop_server, wait_until

MAX_CONNECTIONS = 2
READ_TIMEOUT_S = 1.0


@pytest.fixture
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One worker, two connections at most, one second for a head (or of silence).
    Its own for each test: connections another test just closed could still hold slots."""
    server = start_server(
        tmp_path_factory.mktemp("tight"),
        {
            "SERVE_WORKERS": "1",
            "SERVE_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
            "SERVE_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
        },
    )
    yield server
    stop_server(server)


def _served_health(port: int, timeout: float = 10) -> socket.socket | None:
    """A kept-alive connection that has been answered /health (so it holds a slot), or
    None if no answer came within `timeout`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        if _read_response(sock)[0] == 200:
            return sock
    except (TimeoutError, AssertionError, OSError):
        pass
    sock.close()
    return None


def _cut_after(sock: socket.socket, trickle: bytes | None, limit_s: float) -> float:
    """Seconds until the server closes `sock`, sending `trickle` every 0.2 s meanwhile."""
    started = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - started < limit_s:
        try:
            if trickle:
                sock.sendall(trickle)
            if sock.recv(1) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - started
    pytest.fail(f"the connection was not cut within {limit_s} s")


def test_a_client_that_trickles_its_head_is_cut_off(tight_server) -> None:
    port = _port(tight_server)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        took = _cut_after(sock, b"X-a: b\r\n", limit_s=READ_TIMEOUT_S + 5)
    assert took >= READ_TIMEOUT_S * 0.8, took
    assert wait_until(lambda: _served_health(port)) is not None  # its slot is free again


def test_a_silent_kept_alive_connection_is_closed(tight_server) -> None:
    port = _port(tight_server)
    sock = wait_until(lambda: _served_health(port))
    with sock:
        took = _cut_after(sock, None, limit_s=READ_TIMEOUT_S + 5)
    assert READ_TIMEOUT_S * 0.8 <= took, took


def test_a_connection_that_keeps_asking_is_not_cut(tight_server) -> None:
    port = _port(tight_server)
    sock = wait_until(lambda: _served_health(port))
    with sock:
        for _ in range(4):  # 2 s in all, each pause under the read timeout
            time.sleep(READ_TIMEOUT_S / 2)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock)[0] == 200  # fails if the server closed instead


def test_connections_are_capped_per_worker(tight_server) -> None:
    port = _port(tight_server)
    held = [wait_until(lambda: _served_health(port)) for _ in range(MAX_CONNECTIONS)]
    try:
        # Kept alive by asking again within the read timeout, the two hold both slots:
        # a third connection is not served...
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.settimeout(READ_TIMEOUT_S / 2)
        with pytest.raises(TimeoutError):
            extra.recv(1)
        for sock in held:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_response(sock)[0] == 200
        # ...until one of them closes; then it is.
        held.pop().close()
        extra.settimeout(10)
        assert _read_response(extra)[0] == 200
        held.append(extra)
    finally:
        for sock in held:
            sock.close()
