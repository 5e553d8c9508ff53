"""The HTTP acquirer's floor: 10,000 calls made directly to the acquirer process.

The floor of every figure that goes through the HTTP connector: the same calls
(`POST /v1/authorizations`, unique keys, the same JSON bodies) from the same client
library (aiohttp, one pooled session) with the same concurrency, and nothing around
them. Beside it, the same calls through `AcquirerConnector.authorize_many` (pydantic
wire models, the deadline, the outcome mapping, the runner's loop): the connector's own
cost. Each side runs in a fresh process, so its peak RSS is its own.

    python -m bench.acquirer_floor                 # both latencies, JSON lines
    python -m bench.acquirer_floor --side direct --url URL --count N --concurrency C
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
LATENCIES = {0: None, 300: {"median_ms": 300, "p99_ms": 2000}}


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1], 1),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bodies(count: int) -> list[tuple[str, bytes]]:
    tag = uuid.uuid4().hex[:10]
    out = []
    for i in range(count):
        key = f"pay_bench{tag}{i:06d}"
        body = {"payment_id": key, "amount": 1000 + i, "currency": "INR", "method": "upi"}
        out.append((key, json.dumps(body).encode()))
    return out


async def _direct(url: str, count: int, concurrency: int) -> dict[str, Any]:
    import aiohttp

    calls = _bodies(count)
    latencies: list[float] = []
    done_at: list[float] = []
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:

        async def one(key: str, body: bytes) -> None:
            async with limit:
                started = time.perf_counter()
                headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
                async with asyncio.timeout(30):
                    async with session.post(
                        url + "/v1/authorizations", data=body, headers=headers
                    ) as response:
                        await response.read()
                        assert response.status == 200, response.status
                latencies.append((time.perf_counter() - started) * 1000)
                done_at.append(time.perf_counter())

        started = time.perf_counter()
        await asyncio.gather(*(one(k, b) for k, b in calls))
        elapsed = time.perf_counter() - started
    return {
        "calls_per_s": round(count / elapsed),
        "p95_done_per_s": p95_done_per_s([t - started for t in done_at]),
        **_percentiles(latencies),
    }


def p95_done_per_s(done_after_s: list[float]) -> int:
    """The rate until 95% of the calls were done: the drain's pace without the last 5%,
    whose time is mostly the latency's extreme tail (at 300 ms median and 2 s p99, the
    slowest of 10,000 calls takes 5-10 s on its own)."""
    ordered = sorted(done_after_s)
    n = int(len(ordered) * 0.95)
    return round(n / ordered[n - 1])


def _through_connector(url: str, count: int, concurrency: int) -> dict[str, Any]:
    from chalicelib.connectors import runner
    from chalicelib.connectors.acquirer import AcquirerConnector
    from chalicelib.connectors.base import ChargeRequest

    connector = AcquirerConnector(url, deadline_s=30, concurrency=concurrency)
    requests = [
        ChargeRequest(key, key, 1000 + i, "INR", "upi", 1)
        for i, (key, _) in enumerate(_bodies(count))
    ]
    started = time.perf_counter()
    results = runner.run(connector.authorize_many(requests))
    elapsed = time.perf_counter() - started
    assert all(r.outcome == "succeeded" for r in results), {r.outcome for r in results}
    runner.run(connector.aclose())
    latencies = [float(r.latency_ms) for r in results]
    return {"calls_per_s": round(count / elapsed), **_percentiles(latencies)}


def _side(args: argparse.Namespace) -> None:
    import aiohttp  # noqa: F401  (imports before the CPU baseline: count the calls only)

    if args.side == "connector":
        import chalicelib.connectors.acquirer  # noqa: F401
    cpu = _cpu_s()
    if args.side == "direct":
        result = asyncio.run(_direct(args.url, args.count, args.concurrency))
    else:
        result = _through_connector(args.url, args.count, args.concurrency)
    # CPU per call of the client process: its own cost, whatever else the machine runs.
    cpu_us = round((_cpu_s() - cpu) / args.count * 1e6)
    print(json.dumps({**result, "cpu_us_per_call": cpu_us, "peak_rss_mb": _peak_rss_mb()}))


def _run_side(side: str, url: str, count: int, concurrency: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.acquirer_floor", "--side", side, "--url", url,
         "--count", str(count), "--concurrency", str(concurrency)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=900,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _acquirer_peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


@contextmanager
def acquirer_process(latency: dict[str, int] | None) -> Iterator[tuple[str, subprocess.Popen]]:
    """A dedicated acquirer process with that latency (None: none): its URL and process."""
    with tempfile.TemporaryDirectory(prefix="acquirer-bench-") as data:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "infra.acquirer", "--port", str(port), "--data-dir", data],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_healthy(url)
            httpx.put(url + "/admin/faults", json={"latency": latency}).raise_for_status()
            yield url, server
        finally:
            server.terminate()
            server.wait(timeout=30)


def _mean(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: round(sum(r[k] for r in runs) / len(runs), 1) for k in runs[0]}


def measure(
    count: int = 10_000, concurrency: int | None = None, rounds: int = 2
) -> list[dict[str, Any]]:
    """One figure per latency, each with its floor, from a dedicated acquirer process."""
    concurrency = concurrency or int(os.environ.get("ACQUIRER_CONCURRENCY", "1024"))
    figures = []
    for latency_ms, latency in LATENCIES.items():
        with acquirer_process(latency) as (url, server):
            # Two rounds in alternating order (floor, connector, connector, floor), so
            # a drift of the machine's load weighs on both sides alike.
            sides: dict[str, list[dict[str, Any]]] = {"direct": [], "connector": []}
            for side in ("direct", "connector", "connector", "direct")[: 2 * rounds]:
                sides[side].append(_run_side(side, url, count, concurrency))
            floor, value = _mean(sides["direct"]), _mean(sides["connector"])
            acquirer_rss = _acquirer_peak_rss_mb(server.pid)
        figures.append(
            {
                "name": f"acquirer_connector_latency_{latency_ms}ms",
                "value": round(value["calls_per_s"]),
                "unit": "calls/s",
                "floor": round(floor["calls_per_s"]),
                "ratio": round(value["calls_per_s"] / floor["calls_per_s"], 2),
                "rounds": rounds,
                "cpu_us_per_call": value["cpu_us_per_call"],
                "floor_cpu_us_per_call": floor["cpu_us_per_call"],
                "calls": count,
                "concurrency": concurrency,
                "latency": latency or {"median_ms": 0, "p99_ms": 0},
                "p50_ms": value["p50_ms"],
                "p99_ms": value["p99_ms"],
                "peak_rss_mb": value["peak_rss_mb"],
                "floor_p50_ms": floor["p50_ms"],
                "floor_p99_ms": floor["p99_ms"],
                "floor_peak_rss_mb": floor["peak_rss_mb"],
                "acquirer_peak_rss_mb": acquirer_rss,
            }
        )
    return figures


def _wait_healthy(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the acquirer at {url} did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", choices=("direct", "connector"))
    parser.add_argument("--url")
    parser.add_argument("--count", type=int, default=int(os.environ.get("BENCH_CALLS", "10000")))
    parser.add_argument("--concurrency", type=int, default=None)
    args = parser.parse_args()
    if args.side:
        _side(args)
        return 0
    for figure in measure(args.count, args.concurrency):
        print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
