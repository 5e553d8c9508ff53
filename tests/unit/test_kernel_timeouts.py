"""`kernel_timeouts`: the socket options it sets, and when it leaves them to Python."""

from __future__ import annotations

import socket
import struct

import pytest

from workers.http_limits import kernel_timeouts


def _timeval(sock: socket.socket, option: int) -> tuple[int, int]:
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("@ll"))
    return struct.unpack("@ll", raw)


@pytest.mark.parametrize(("seconds", "expected"), [(15, (15, 0)), (1.5, (1, 500_000))])
def test_both_directions_get_the_timeout_and_the_socket_stays_blocking(seconds, expected):
    with socket.socket() as sock:
        assert kernel_timeouts(sock, seconds)
        assert _timeval(sock, socket.SO_RCVTIMEO) == expected
        assert _timeval(sock, socket.SO_SNDTIMEO) == expected
        assert sock.gettimeout() is None


@pytest.mark.parametrize("seconds", [0, 0.0000001, -1])
def test_no_timeout_at_all_is_left_to_python(seconds):
    """The kernel reads a zero timeval as 'wait forever': the caller keeps Python's."""
    with socket.socket() as sock:
        assert not kernel_timeouts(sock, seconds)
        assert _timeval(sock, socket.SO_RCVTIMEO) == (0, 0)


def test_an_expired_read_reads_nothing_through_the_socket_file():
    """What the handler relies on: `peek` gives b"" (closed as idle), `read` None."""
    left, right = socket.socketpair()
    with left, right:
        assert kernel_timeouts(left, 0.05)
        reader = left.makefile("rb")
        assert reader.peek(1) == b""
        assert reader.read(10) is None
        right.sendall(b"late")
        assert reader.read(4) == b"late"
