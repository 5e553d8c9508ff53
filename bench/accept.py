"""Accept rate: payments created in-process, over HTTP, and end to end.

Floors: the same INSERT (payment + first history row, one transaction) and XADD per
payment, issued directly; over HTTP, by 8 threads with a connection each.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bench.common import Deadline, drain_everything, new_merchant
from chalicelib import db, ids, settings
from chalicelib.adapters.redis_client import get_redis
from chalicelib.clock import utcnow
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.queue import handler as batch
from chalicelib.queue import keys
from chalicelib.repository.payments import INSERT_PAYMENT_WITH_HISTORY
from chalicelib.services import payments as payment_service

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
_floors: dict[str, float] = {}


def _body(tag: str, i: int) -> dict[str, Any]:
    return {"order_id": f"acc_{tag}_{i}", "amount": 1000, "currency": "INR", "method": "upi"}


def _direct_accept(conn: psycopg.Connection, redis: Any, merchant_id: str, body: dict) -> None:
    now = utcnow()
    with conn.transaction():
        row = conn.execute(
            INSERT_PAYMENT_WITH_HISTORY,
            {
                "id": ids.new_id(ids.PAYMENT),
                "merchant_id": merchant_id,
                "order_id": body["order_id"],
                "amount": body["amount"],
                "currency": body["currency"],
                "method": body["method"],
                "vpa": None,
                "card": None,
                "bank": None,
                "wallet": None,
                "method_token": None,
                "description": None,
                "metadata": Jsonb({}),
                "now": now,
            },
        ).fetchone()
    redis.xadd(keys.PAYMENTS_STREAM, {"id": row["id"]})


def _connect() -> psycopg.Connection:
    return psycopg.connect(
        settings.database_url(), autocommit=True, row_factory=dict_row, prepare_threshold=0
    )


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
    with _connect() as conn:
        for r in range(rounds):
            started = time.perf_counter()
            for i in range(per_round):
                request = CreatePaymentRequest.model_validate(_body(f"{tag}s{r}", i))
                with db.unit_of_work() as uow:
                    payment_service.create_payment(uow, merchant.merchant_id, request)
            values.append(per_round / (time.perf_counter() - started))
            started = time.perf_counter()
            for i in range(per_round):
                _direct_accept(conn, redis, merchant.merchant_id, _body(f"{tag}f{r}", i))
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


def _start_server() -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workers.serve",
            "--port",
            str(port),
            "--stage",
            os.environ.get("STAGE", "test"),
        ],
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
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def _load(url: str, api_key: str, count: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.load", url, api_key, str(CLIENTS), str(count)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def _direct_concurrent(merchant_id: str, count: int) -> tuple[float, float]:
    """(payments/s, p99 ms) of the bare statements from 8 threads, a connection each."""
    tag = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    lock = threading.Lock()
    redis = get_redis()

    def worker(index: int) -> None:
        mine = []
        with _connect() as conn:
            for i in range(index, count, CLIENTS):
                started = time.perf_counter()
                _direct_accept(conn, redis, merchant_id, _body(tag, i))
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    return count / seconds, latencies[int(len(latencies) * 0.99) - 1]


def measure_http(count: int) -> list[dict[str, Any]]:
    """8 keep-alive clients against the local server, and the p99 latency they saw."""
    drain_everything()
    merchant = new_merchant()
    process, url = _start_server()
    try:
        _load(url, merchant.api_key, 200)  # warm-up: connections, pools, caches
        result = _load(url, merchant.api_key, count)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert result["statuses"] == {"202": count}, result["statuses"]
    value = count / result["seconds"]
    floor, floor_p99 = _direct_concurrent(merchant.merchant_id, count)
    drain_everything()
    return [
        {
            "name": "accept_http_8_keepalive_clients",
            "value": round(value),
            "unit": "payments/s",
            "floor": round(floor),
            "ratio": round(value / floor, 2),
            "payments": count,
            "p50_ms": result["p50_ms"],
        },
        {
            "name": "accept_http_p99",
            "value": result["p99_ms"],
            "unit": "ms",
            "floor": round(floor_p99, 2),
            "ratio": round(result["p99_ms"] / floor_p99, 2),
        },
    ]


def measure_end_to_end(count: int) -> dict[str, Any]:
    """Accepted over HTTP by 8 clients while the scheduler runs, until all are final."""
    drain_everything()
    merchant = new_merchant()
    process, url = _start_server()
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
