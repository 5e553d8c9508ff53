"""One process-wide event loop, in a daemon thread, for the connectors' network calls.

The batch handlers run in threads; an `asyncio.run` per batch would create a loop and
throw away an HTTP client's keep-alive pool every batch. Here the loop, and every
aiohttp session created on it, live as long as the process: `run(coro, timeout)` submits
a coroutine from any thread and waits for it; `call_on_loop(...)` lets a coroutine that
runs on another loop hop onto this one. `shutdown()` (also at exit) closes what was
registered with `on_shutdown` and stops the loop.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_closers: list[Callable[[], Awaitable[None]]] = []


def loop() -> asyncio.AbstractEventLoop:
    """The shared loop, started on first use."""
    global _loop, _thread
    if _loop is not None:
        return _loop
    with _lock:
        if _loop is None:
            new_loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=new_loop.run_forever, name="connector-loop", daemon=True
            )
            thread.start()
            _loop, _thread = new_loop, thread
    return _loop


def run[T](coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` on the shared loop from a thread that is not the loop's; wait for it.

    On `timeout` (seconds) the coroutine is cancelled and TimeoutError raised.
    """
    target = loop()
    if _thread is threading.current_thread():
        coro.close()
        raise RuntimeError("runner.run() called from the connector loop itself: await instead")
    future = asyncio.run_coroutine_threadsafe(coro, target)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise TimeoutError(f"connector call did not finish in {timeout}s") from None


async def call_on_loop[T](make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Await `make()` on the shared loop, whichever loop the caller runs on."""
    target = loop()
    if asyncio.get_running_loop() is target:
        return await make()
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(make(), target))


def on_shutdown(closer: Callable[[], Awaitable[None]]) -> None:
    """Run `closer()` on the loop when the process shuts the runner down."""
    _closers.append(closer)


def shutdown(timeout: float = 5.0) -> None:
    """Close the registered resources on the loop, then stop it (idempotent)."""
    global _loop, _thread
    target, thread = _loop, _thread
    if target is None or thread is None:
        return
    closers = list(_closers)
    _closers.clear()

    async def close_all() -> None:
        await asyncio.gather(*(c() for c in closers), return_exceptions=True)

    if closers and thread.is_alive():
        try:
            asyncio.run_coroutine_threadsafe(close_all(), target).result(timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
    with _lock:
        _loop, _thread = None, None
    target.call_soon_threadsafe(target.stop)
    thread.join(timeout)
    if not target.is_running():
        target.close()


def _forget_after_fork() -> None:
    # A forked child has no loop thread: start afresh on first use.
    global _loop, _thread
    _loop, _thread = None, None
    _closers.clear()


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)
