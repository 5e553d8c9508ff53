"""Accept rate: payments created in-process and end to end (over HTTP: bench/accept_http.py).

Floor: the same statements (bench/floor.py: the payment + first history INSERT in one
pipelined transaction) and XADD per payment, issued directly.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Deadline, drain_everything, new_merchant
from bench.floor import connect, direct_accept
from chalicelib import db
from chalicelib.adapters.redis_client import get_redis
from chalicelib.handlers import process_payments as batch
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.services import payments as payment_service

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
_floors: dict[str, float] = {}


def _body(tag: str, i: int) -> dict[str, Any]:
    return {"order_id": f"acc_{tag}_{i}", "amount": 1000, "currency": "INR", "method": "upi"}


def measure_in_process(count: int, rounds: int = 6) -> dict[str, Any]:
    """The service path (validation, service, one transaction, XADD) against bare SQL.

    The two alternate in `rounds` rounds and each figure is the median of its rounds,
    so that both see the same slow and fast spells of this noisy machine.
    """
    drain_everything()
    merchant = new_merchant()
    tag = uuid.uuid4().hex[:8]
    redis = get_redis()
    per_round = max(1, count // rounds)
    values: list[float] = []
    floors: list[float] = []
    with connect() as conn:
        for r in range(rounds):
            started = time.perf_counter()
            for i in range(per_round):
                request = CreatePaymentRequest.model_validate(_body(f"{tag}s{r}", i))
                with db.unit_of_work(pipelined=True) as uow:
                    payment_service.create_payment(uow, merchant.merchant_id, request)
            values.append(per_round / (time.perf_counter() - started))
            started = time.perf_counter()
            for i in range(per_round):
                direct_accept(conn, redis, merchant.merchant_id, _body(f"{tag}f{r}", i))
            floors.append(per_round / (time.perf_counter() - started))
    value, floor = statistics.median(values), statistics.median(floors)
    _floors["accept"] = floor
    drain_everything()
    return {
        "name": "accept_in_process",
        "value": round(value),
        "unit": "payments/s",
        "floor": round(floor),
        "ratio": round(value / floor, 2),
        "payments": per_round * rounds,
        "rounds": rounds,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str] | None = None, side: str = "ours"
) -> tuple[subprocess.Popen, str]:
    """On a free port: the gateway's local server (`workers.serve`, its default workers),
    the floor server (`bench.floor_server`, as many workers) as the `floor` or the
    `chalice_floor`, or the Node peer (`bench.node_peer`, as many workers)."""
    port = _free_port()
    env = {**os.environ, "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING", **(env or {})}
    if side == "ours":
        args = ["-m", "workers.serve", "--port", str(port), "--stage", env.get("STAGE", "test")]
        command = [sys.executable, *args]
    else:
        from workers.serve import default_workers

        workers = int(env.get("SERVE_WORKERS") or 0) or default_workers()  # as many as ours
        if side == "node_peer":
            from bench import node_peer

            command, env = node_peer.command(port, workers, env)
        else:
            args = ["-m", "bench.floor_server", str(port), str(workers)]
            args += ["--chalice"] if side == "chalice_floor" else []
            command = [sys.executable, *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, url
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within 60 s (a loaded machine is slow)."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _load(url: str, api_key: str, count: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", url, api_key, str(CLIENTS), str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def measure_end_to_end(count: int) -> dict[str, Any]:
    """Accepted over HTTP by 8 clients while the scheduler runs, until all are final."""
    drain_everything()
    merchant = new_merchant()
    process, url = start_server()
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "workers.scheduler"],
        cwd=ROOT,
        env={**os.environ, "SCHEDULER_INTERVAL_S": "0.2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _load(url, merchant.api_key, 50)  # warm-up, not counted
        time.sleep(1)
        with db.connection() as conn:
            before = conn.execute(
                "SELECT count(*) AS n FROM payments WHERE merchant_id = %s", (merchant.merchant_id,)
            ).fetchone()["n"]
        started = time.perf_counter()
        _load(url, merchant.api_key, count)
        while True:
            with db.connection() as conn:
                done = conn.execute(
                    "SELECT count(*) AS n FROM payments WHERE merchant_id = %s"
                    " AND status = 'SUCCESS'",
                    (merchant.merchant_id,),
                ).fetchone()["n"]
            if done >= before + count:
                break
            time.sleep(0.02)
        value = count / (time.perf_counter() - started)
    finally:
        for child in (process, scheduler):
            child.terminate()
            child.wait(timeout=30)
    # Floor: the bare statements accepting, then draining, one after the other.
    accept_floor = _floors.get("accept") or 1.0
    drain_floor = _floors.get("drain") or 1.0
    floor = 1 / (1 / accept_floor + 1 / drain_floor)
    batch.process_payments(Deadline(60))
    return {
        "name": "end_to_end_http_2000",
        "value": round(value),
        "unit": "payments/s",
        "floor": round(floor),
        "ratio": round(value / floor, 2),
        "payments": count,
    }


def record_drain_floor(floor: float) -> None:
    _floors["drain"] = floor
