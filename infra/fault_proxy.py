"""A TCP proxy that injects network faults between the gateway and an acquirer.

    python -m infra.fault_proxy --route 18292=127.0.0.1:18290 --route 18294=127.0.0.1:18291 \
        --admin-port 18293 --seed 7

Each `--route LISTEN=HOST:PORT` forwards bytes both ways. Faults are decided per request
(the first bytes a client sends after the previous answer began), with a seeded random,
so that a run can be repeated:

  latency             wait `latency_ms` (uniform in [min, max]) before forwarding the request
  drop_after_request  forward the request, wait until the upstream starts answering (it
                      got the request and acted on it), then close the client's connection
                      without a byte of the answer
  reset_after_answer  forward the first bytes of the answer, then reset (TCP RST)
  blackhole           read the request and never forward it nor answer

Control at run time: `GET|PUT|DELETE /faults` and `GET /stats` on `--admin-port`
(JSON), or in-process through `FaultProxy.config` and `FaultProxy.stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import signal
import socket
import struct
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

FAULTS = ("drop_after_request", "reset_after_answer", "blackhole")
CHUNK = 65536


@dataclass
class FaultConfig:
    """Rates (0..1) per fault, rolled per request; `latency_rate` of requests are delayed."""

    latency_rate: float = 0.0
    latency_ms: tuple[float, float] = (0.0, 0.0)
    drop_after_request: float = 0.0
    reset_after_answer: float = 0.0
    blackhole: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        config = cls(**data)
        config.latency_ms = (float(config.latency_ms[0]), float(config.latency_ms[1]))
        rates = [config.latency_rate, *(getattr(config, name) for name in FAULTS)]
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates[1:]) > 1:
            raise ValueError("rates are within 0..1 and the faults' rates sum to at most 1")
        if not 0 <= config.latency_ms[0] <= config.latency_ms[1]:
            raise ValueError("latency_ms is [min, max] with 0 <= min <= max")
        return config

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_ms"] = list(self.latency_ms)
        return data


@dataclass
class Route:
    listen_port: int
    upstream_host: str
    upstream_port: int
    server: asyncio.Server | None = None


@dataclass
class FaultProxy:
    """The proxy's routes, its fault settings and what it has injected so far."""

    routes: list[Route]
    seed: int = 0
    host: str = "127.0.0.1"
    config: FaultConfig = field(default_factory=FaultConfig)
    stats: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for route in self.routes:
            route.server = await asyncio.start_server(
                lambda r, w, route=route: self._handle(route, r, w),
                self.host,
                route.listen_port,
                reuse_address=True,
            )
            if route.listen_port == 0:
                route.listen_port = route.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for route in self.routes:
            if route.server is not None:
                route.server.close()
        for task in list(self._tasks):
            task.cancel()
        for route in self.routes:
            if route.server is not None:
                with contextlib.suppress(Exception):
                    await route.server.wait_closed()

    def roll(self) -> tuple[str | None, float]:
        """The fault for one request and its added latency in seconds."""
        cfg = self.config
        delay = 0.0
        if cfg.latency_rate and self.rng.random() < cfg.latency_rate:
            delay = self.rng.uniform(*cfg.latency_ms) / 1000
        draw, edge = self.rng.random(), 0.0
        for name in FAULTS:
            edge += getattr(cfg, name)
            if draw < edge:
                return name, delay
        return None, delay

    async def _handle(
        self, route: Route, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats["connections"] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(
                route.upstream_host, route.upstream_port
            )
        except OSError:
            self.stats["upstream_refused"] += 1
            _reset(writer)  # as the upstream did: the client sees a refused call
            self._tasks.discard(task)
            return
        conn = _Connection(self, reader, writer, up_reader, up_writer)
        try:
            await conn.run()
        finally:
            _close(writer)
            _close(up_writer)
            self._tasks.discard(task)


class _Connection:
    """One client connection and its upstream connection: two pumps and the request's fault."""

    def __init__(
        self,
        proxy: FaultProxy,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.reader, self.writer = reader, writer
        self.up_reader, self.up_writer = up_reader, up_writer
        self.fault: str | None = None
        self.answered = True  # the previous request's answer has begun (or none was asked)
        self.done = asyncio.Event()

    async def run(self) -> None:
        pumps = [
            asyncio.create_task(self._client_to_upstream()),
            asyncio.create_task(self._upstream_to_client()),
        ]
        try:
            await self.done.wait()
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def _client_to_upstream(self) -> None:
        try:
            while data := await self.reader.read(CHUNK):
                if self.answered:  # a new request: roll its fault
                    self.answered = False
                    self.fault, delay = self.proxy.roll()
                    if delay:
                        self.proxy.stats["latency"] += 1
                        await asyncio.sleep(delay)
                    if self.fault:
                        self.proxy.stats[self.fault] += 1
                if self.fault == "blackhole":
                    continue  # read and never forward: the client waits for nothing
                self.up_writer.write(data)
                await self.up_writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        self.done.set()  # the client went away (a blackholed one too)

    async def _upstream_to_client(self) -> None:
        try:
            while data := await self.up_reader.read(CHUNK):
                self.answered = True
                if self.fault == "drop_after_request":
                    # The upstream got the request and answered: the client gets nothing.
                    self.writer.close()
                    break
                if self.fault == "reset_after_answer":
                    self.writer.write(data[: max(1, len(data) // 2)])
                    await self.writer.drain()
                    await asyncio.sleep(0.01)  # let the first bytes leave before the RST
                    _reset(self.writer)
                    break
                self.writer.write(data)
                await self.writer.drain()
        except OSError:
            pass
        self.done.set()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0, so that the peer gets a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


# --------------------------------------------------------------------------- control API
def control_app(proxy: FaultProxy) -> web.Application:
    """`GET|PUT|DELETE /faults` (PUT replaces the whole setting) and `GET /stats`."""

    async def faults(request: web.Request) -> web.Response:
        if request.method == "PUT":
            try:
                proxy.config = FaultConfig.from_dict(await request.json())
            except (ValueError, TypeError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
        elif request.method == "DELETE":
            proxy.config = FaultConfig()
        return web.json_response(proxy.config.as_dict())

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(dict(proxy.stats))

    app = web.Application()
    for method in ("GET", "PUT", "DELETE"):
        app.router.add_route(method, "/faults", faults)
    app.router.add_get("/stats", stats)
    return app


def _route(text: str) -> Route:
    try:
        listen, upstream = text.split("=", 1)
        host, port = upstream.rsplit(":", 1)
        return Route(int(listen), host, int(port))
    except ValueError:
        raise argparse.ArgumentTypeError("a route is LISTEN_PORT=HOST:PORT") from None


async def _serve(proxy: FaultProxy, admin_port: int) -> None:
    await proxy.start()
    runner = web.AppRunner(control_app(proxy), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, proxy.host, admin_port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    ports = ", ".join(f"{r.listen_port}->{r.upstream_host}:{r.upstream_port}" for r in proxy.routes)
    print(f"fault proxy: {ports}; control on {proxy.host}:{admin_port}", flush=True)
    await stop.wait()
    await proxy.stop()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injecting TCP proxy")
    parser.add_argument("--route", type=_route, action="append", required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    asyncio.run(_serve(FaultProxy(args.route, seed=args.seed, host=args.host), args.admin_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
