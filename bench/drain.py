"""Drain rate: 10,000 accepted payments brought to SUCCESS by `process_payments`.

Floor: the same statements and commands issued directly in a loop, with no
framework around them: XREADGROUP, the claim (lock + CAS), the processor's ledger
write, the finishing statement with the events insert, XACK.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bench.common import (
    Deadline,
    accept_payments,
    drain_everything,
    new_merchant,
    set_env,
    settle,
)
from chalicelib import ids, settings
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.connectors.simulator import RECORD_CHARGES
from chalicelib.handlers import process_payments as batch
from chalicelib.queue import stream
from chalicelib.queue.finish_sql import PAYMENTS as FINISH
from chalicelib.queue.sql import PAYMENTS as PAYMENTS_TABLE
from chalicelib.repository.events import INSERT_EVENTS_WITH_DELIVERIES


def measure(count: int, latency_ms: int) -> dict[str, Any]:
    set_env(PROCESSOR_LATENCY_MS=str(latency_ms))
    drain_everything()
    merchant = new_merchant()
    accept_payments(merchant.merchant_id, count)
    settle()
    started = time.perf_counter()
    done = 0
    while done < count:
        done += batch.process_payments(Deadline(600))["succeeded"]
    value = count / (time.perf_counter() - started)

    accept_payments(merchant.merchant_id, count)
    settle()
    floor = count / direct_drain_seconds(latency_ms / 1000)
    return {
        "name": f"drain_latency_{latency_ms}ms",
        "value": round(value),
        "unit": "payments/s",
        "floor": round(floor),
        "ratio": round(value / floor, 2),
        "payments": count,
        "batch_size": settings.get_settings().batch_size,
        "drain_workers": settings.get_settings().drain_workers,
    }


def direct_drain_seconds(latency_s: float) -> float:
    """Seconds for the bare statements to drain everything on the stream, from as many
    concurrent loops (a connection each) as the handler has drain workers."""
    workers = settings.get_settings().drain_workers
    stream.ensure_group(keys.PAYMENTS_STREAM)
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(_direct_loop, latency_s) for _ in range(workers)]:
            future.result()
    return time.perf_counter() - started


def _direct_loop(latency_s: float) -> None:
    cfg = settings.get_settings()
    redis = get_redis()
    consumer = f"floor-{uuid.uuid4().hex[:6]}"
    # Never prepared, as in the handler (db.py): after five runs Postgres may switch a
    # prepared batch statement to a generic plan, several times slower.
    with psycopg.connect(
        settings.database_url(), autocommit=True, row_factory=dict_row, prepare_threshold=None
    ) as conn:
        while True:
            result = redis.xreadgroup(
                keys.PROCESSOR_GROUP, consumer, {keys.PAYMENTS_STREAM: ">"}, count=cfg.batch_size
            )
            if not result:
                break
            entries = result[0][1]
            now = datetime.now(UTC)
            stale = now - timedelta(seconds=cfg.visibility_timeout_s)
            with conn.transaction():
                claimed = conn.execute(
                    PAYMENTS_TABLE.claim,
                    {
                        "ids": [f["id"] for _, f in entries],
                        "now": now,
                        "stale_before": stale,
                        # the same routing parameters as the handler (no merchant's own)
                        "route_merchants": [],
                        "route_connectors": [],
                        "default_connector": "simulator",
                    },
                ).fetchall()
            if latency_s:
                asyncio.run(asyncio.sleep(latency_s))  # the batch's calls overlap
            n = len(claimed)
            conn.execute(
                RECORD_CHARGES,
                {
                    "keys": [r["id"] for r in claimed],
                    "payment_ids": [r["id"] for r in claimed],
                    "amounts": [r["amount"] for r in claimed],
                    "currencies": [r["currency"] for r in claimed],
                    "outcomes": ["succeeded"] * n,
                    "codes": [None] * n,
                    "attempts": [r["attempts"] for r in claimed],
                    "captures": [True] * n,
                    "authorization_ttl_s": 604800.0,
                },
            ).fetchall()
            with conn.transaction():
                finished = conn.execute(
                    FINISH,
                    {
                        "ids": [r["id"] for r in claimed],
                        "claimed_ats": [r["claimed_at"] for r in claimed],
                        "statuses": ["SUCCESS"] * n,
                        "attempts": [r["attempts"] for r in claimed],
                        "outcomes": ["succeeded"] * n,
                        "codes": [None] * n,
                        "messages": [None] * n,
                        "next_attempt_ats": [None] * n,
                        "latencies": [0] * n,
                        "attempt_codes": [None] * n,
                        "inquiry_ids": [None] * n,
                        "inquiry_due": now,
                        "authorization_ttl_s": 604800.0,
                        "now": now,
                    },
                ).fetchall()
                conn.execute(
                    INSERT_EVENTS_WITH_DELIVERIES,
                    {
                        "ids": ids.new_ids(ids.EVENT, len(finished)),
                        "merchant_ids": [r["merchant_id"] for r in finished],
                        "types": ["payment.succeeded"] * len(finished),
                        "datas": [json.dumps(r, default=str) for r in finished],
                        "now": now,
                    },
                )
            pipe = redis.pipeline(transaction=False)
            entry_ids = [entry_id for entry_id, _ in entries]
            pipe.xack(keys.PAYMENTS_STREAM, keys.PROCESSOR_GROUP, *entry_ids)
            pipe.xdel(keys.PAYMENTS_STREAM, *entry_ids)
            pipe.execute()
