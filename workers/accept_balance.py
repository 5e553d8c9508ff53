"""Connections spread evenly over the worker processes that share one listening socket.

Every worker waits on the same socket and the kernel hands each new connection to
whichever accepts first, so a client's kept-alive connections (wrk's eight, an SDK's
pool) often land 5 and 3 or 6 and 2 and stay there for their whole life. Each
process runs Python one thread at a time, so the busier one caps the throughput
while the other has time to spare. Measured with 8 keep-alive connections (wrk) on
2 cores, durable stack: 3-and-5 splits in 6 runs of 7; six such runs of ours made
323-503 payments/s (median 437) at 2,104-2,727 µs of server CPU per accept, eight
runs split 4 and 4 made 370-638/s (median 541) at 1,679-2,608 µs.

So each worker counts its open connections in a shared array (one slot per worker,
written only by its owner), and a worker that holds more than the least loaded one
lets that one accept first: it waits up to `MAX_DEFER_S` before accepting, so a
connection is never held back for long when the other worker is slow to take it.
"""

from __future__ import annotations

import mmap
import threading
import time

MAX_DEFER_S = 0.02
_POLL_S = 0.001


class AcceptBalance:
    """Open connections per worker, shared by the processes forked after it is made."""

    def __init__(self, workers: int) -> None:
        self._shared = mmap.mmap(-1, 4 * workers)  # anonymous and shared across fork
        self._counts = memoryview(self._shared).cast("i")
        self._index: int | None = None
        self._lock = threading.Lock()

    def join(self, index: int) -> None:
        """In a forked worker: count this process's connections in slot `index`."""
        self._index = index
        self._counts[index] = 0

    def reset(self, index: int) -> None:
        """In the supervisor: a worker died, and its connections with it."""
        self._counts[index] = 0

    def opened(self) -> None:
        if self._index is not None:
            with self._lock:
                self._counts[self._index] += 1

    def closed(self) -> None:
        if self._index is not None:
            with self._lock:
                self._counts[self._index] -= 1

    def counts(self) -> list[int]:
        return list(self._counts)

    def wait_turn(self) -> None:
        """Before accepting: let a worker with fewer connections take this one first."""
        if self._index is None:
            return
        deadline = time.monotonic() + MAX_DEFER_S
        while self._counts[self._index] > min(self._counts) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
