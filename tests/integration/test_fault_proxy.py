"""The fault proxy (infra/fault_proxy.py) against a tiny HTTP upstream that counts requests.

Each fault at rate 1: what the upstream saw, and what the client got.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from infra.fault_proxy import FaultConfig, FaultProxy, Route, control_app

ANSWER = "x" * 20_000  # long enough that a reset after the first bytes cuts it


async def _with_proxy(
    config: dict[str, Any], body: Callable[[str, list[str], FaultProxy], Awaitable[None]]
) -> FaultProxy:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.Response(text=ANSWER)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    proxy = FaultProxy([Route(0, "127.0.0.1", upstream_port)], seed=1)
    proxy.config = FaultConfig.from_dict(config)
    await proxy.start()
    try:
        await body(f"http://127.0.0.1:{proxy.routes[0].listen_port}", seen, proxy)
    finally:
        await proxy.stop()
        await runner.cleanup()
    return proxy


async def _get(url: str, timeout: float = 2.0) -> tuple[str, Any]:
    """('ok', body) or (the error's class name, None). A POST: aiohttp retries an
    idempotent method once on a dropped connection, which would hide the fault."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s:
            async with s.post(url, data=b"{}") as response:
                return "ok", await response.text()
    except TimeoutError:
        return "timeout", None
    except aiohttp.ClientError as exc:
        return type(exc).__name__, None


def test_without_faults_every_answer_is_forwarded_whole() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        for n in range(5):
            assert await _get(f"{url}/r{n}") == ("ok", ANSWER)
        assert seen == [f"/r{n}" for n in range(5)]

    asyncio.run(_with_proxy({}, body))


def test_latency_delays_the_request() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        started = time.monotonic()
        assert await _get(f"{url}/slow") == ("ok", ANSWER)
        assert time.monotonic() - started >= 0.3

    proxy = asyncio.run(_with_proxy({"latency_rate": 1, "latency_ms": [300, 300]}, body))
    assert proxy.stats["latency"] == 1


def test_drop_after_request_reaches_the_upstream_but_not_the_client() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        outcome, _ = await _get(f"{url}/charge")
        assert outcome == "ServerDisconnectedError"
        assert seen == ["/charge"]  # the upstream acted on it

    proxy = asyncio.run(_with_proxy({"drop_after_request": 1}, body))
    assert proxy.stats["drop_after_request"] == 1


def test_reset_after_the_answer_began() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        outcome, _ = await _get(f"{url}/charge")
        assert outcome in ("ClientPayloadError", "ClientOSError", "ServerDisconnectedError")
        assert seen == ["/charge"]

    proxy = asyncio.run(_with_proxy({"reset_after_answer": 1}, body))
    assert proxy.stats["reset_after_answer"] == 1


def test_blackhole_never_forwards_nor_answers() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        assert await _get(f"{url}/charge", timeout=0.5) == ("timeout", None)
        assert seen == []

    proxy = asyncio.run(_with_proxy({"blackhole": 1}, body))
    assert proxy.stats["blackhole"] == 1


def test_faults_are_rolled_per_request_with_a_seeded_random() -> None:
    def rolls(seed: int) -> list[tuple[str | None, float]]:
        proxy = FaultProxy([], seed=seed)
        proxy.config = FaultConfig.from_dict(
            {
                "latency_rate": 0.5,
                "latency_ms": [0, 100],
                "blackhole": 0.2,
                "drop_after_request": 0.2,
            }
        )
        return [proxy.roll() for _ in range(200)]

    assert rolls(3) == rolls(3) != rolls(4)
    faults = [fault for fault, _ in rolls(3)]
    assert 20 < faults.count("blackhole") < 60 and faults.count(None) > 120


def test_the_control_api_switches_faults_at_run_time() -> None:
    async def body(url: str, seen: list[str], proxy: FaultProxy) -> None:
        runner = web.AppRunner(control_app(proxy), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        control = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        try:
            async with aiohttp.ClientSession() as s:
                async with s.put(f"{control}/faults", json={"blackhole": 1}) as r:
                    assert r.status == 200
                assert await _get(f"{url}/a", timeout=0.5) == ("timeout", None)
                async with s.put(f"{control}/faults", json={"blackhole": 2}) as r:
                    assert r.status == 400
                async with s.delete(f"{control}/faults") as r:
                    assert (await r.json())["blackhole"] == 0
                assert await _get(f"{url}/b") == ("ok", ANSWER)
                async with s.get(f"{control}/stats") as r:
                    assert (await r.json())["blackhole"] == 1
        finally:
            await runner.cleanup()

    asyncio.run(_with_proxy({}, body))
