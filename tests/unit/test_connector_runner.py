"""The connectors' process-wide loop: one loop thread, hops, timeouts, shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

from chalicelib.connectors import runner


async def _thread_name() -> str:
    return threading.current_thread().name


def test_run_executes_on_the_one_loop_thread_from_any_thread() -> None:
    names: list[str] = []
    threads = [
        threading.Thread(target=lambda: names.append(runner.run(_thread_name(), 5)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert names == ["connector-loop"] * 4


def test_a_coroutine_on_another_loop_hops_onto_the_shared_one() -> None:
    async def caller() -> tuple[str, str]:
        here = threading.current_thread().name
        there = await runner.call_on_loop(_thread_name)
        return here, there

    here, there = asyncio.run(caller())
    assert here == threading.current_thread().name and there == "connector-loop"


def test_timeout_cancels_the_coroutine() -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        runner.run(slow(), timeout=0.05)
    assert cancelled.wait(5)


def test_run_from_the_loop_itself_is_refused() -> None:
    async def nested() -> None:
        runner.run(_thread_name(), 1)

    with pytest.raises(RuntimeError, match="await instead"):
        runner.run(nested(), 5)


def test_shutdown_closes_what_was_registered_then_a_new_loop_starts() -> None:
    closed_on: list[str] = []

    async def closer() -> None:
        closed_on.append(threading.current_thread().name)

    first = runner.loop()
    runner.on_shutdown(closer)
    runner.shutdown()
    assert closed_on == ["connector-loop"]
    assert first.is_closed()
    assert runner.run(_thread_name(), 5) == "connector-loop"
    assert runner.loop() is not first
