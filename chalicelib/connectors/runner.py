"""One event loop per process for connector calls, in a daemon thread.

The batch handlers are synchronous and run in several threads; an HTTP
connector's client session and its pool of kept-alive connections belong to one
event loop. Every call is submitted to this loop, so the pool lives across
batches and threads instead of being rebuilt by each `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Coroutine
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def _get_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    if _loop is None:
        with _lock:
            if _loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="connector-loop", daemon=True
                )
                thread.start()
                _loop, _thread = loop, thread
                atexit.register(stop)
    return _loop


def run[T](coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the process's connector loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coro, _get_loop()).result(timeout)


def stop() -> None:
    """Close every connector's client and stop the loop (exit, tests, SnapStart)."""
    global _loop, _thread
    with _lock:
        loop, thread, _loop, _thread = _loop, _thread, None, None
    if loop is None:
        return
    from chalicelib import connectors

    async def close_all() -> None:
        for connector in list(connectors._connectors.values()):
            await connector.aclose()

    try:
        asyncio.run_coroutine_threadsafe(close_all(), loop).result(5)
        connectors._connectors.clear()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(5)
        loop.close()
