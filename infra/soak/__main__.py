"""`make soak`: the chaos soak of issue 22 (item 6). Run inside `infra.stack run`.

    python -m infra.stack run --database gateway_soak --redis-db 3 --fresh -- \
        python -m infra.soak --minutes 10 --seed 7

Starts a second acquirer, the fault proxy in front of both and `workers.run` (as
`make run` does) routed over both; drives load while the proxy injects network faults and
seeded kills and outages happen; then settles (faults off, every payment final or a
timeout), checks every invariant, prints a table and writes `build/soak/<ts>.json`.
Exit status 1 on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from infra.soak import checks, report
from infra.soak.chaos import Chaos
from infra.soak.load import Load
from infra.soak.rig import CONNECTORS, GATEWAY_SETTINGS, Rig, wait_http
from infra.stack_base import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drive(load: Load, seconds: float) -> None:
    task = asyncio.create_task(load.run())
    await asyncio.sleep(seconds)
    load.stop.set()
    await task


def _settle(rig: Rig, api_key: str, refunds: set[str], seconds: float) -> float:
    """Wait until no payment of the merchant is PENDING, PROCESSING or AUTHORIZED (an
    uncaptured authorization expires and is voided) and every refund is
    final, or `seconds` pass; returns how long it took."""
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=rig.gateway_url, headers=headers, timeout=10) as http:
        while time.monotonic() - started < seconds:
            try:
                open_payments = sum(
                    len(http.get("/api/v1/payments", params={"status": status}).json()["data"])
                    for status in ("PENDING", "PROCESSING", "AUTHORIZED")
                )
                for refund in list(refunds):
                    if http.get(f"/api/v1/refunds/{refund}").json().get("status") != "PENDING":
                        refunds.discard(refund)
            except (httpx.HTTPError, KeyError, ValueError):
                open_payments = -1  # the gateway is not answering yet: wait on
            if open_payments == 0 and not refunds:
                break
            time.sleep(1)
    return time.monotonic() - started


def _histories(rig: Rig, api_key: str, violations: list[dict[str, Any]]) -> dict[str, Any]:
    """The gateway's history of (up to 50) payments that broke an invariant: for the record."""
    subjects = {str(v["subject"]) for v in violations if str(v["subject"]).startswith("pay_")}
    found: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=rig.gateway_url, headers=headers, timeout=10) as http:
        for payment in sorted(subjects)[:50]:
            try:
                found[payment] = http.get(f"/api/v1/payments/{payment}/history").json()["data"]
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                found[payment] = repr(exc)
    return found


def _reconcile(rig: Rig, merchant: str, first_day: Any) -> list[dict[str, Any]]:
    results = []
    day = first_day
    while day <= datetime.now(UTC).date():
        for name in CONNECTORS:
            args = ["reconcile", "--connector", name, "--merchant", merchant]
            answer = rig.admin(*args, "--date", day.isoformat())
            results.append({"connector": name, "date": day.isoformat(), **answer})
        day += timedelta(days=1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chaos soak of the gateway (issue 22)")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("MINUTES", 10)))
    parser.add_argument("--seconds", type=float, default=None, help="overrides --minutes")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SEED") or 0) or None)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--settle-s", type=float, default=None, help="default: 180 s")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "soak")
    parser.add_argument("--port", type=int, default=0, help="the gateway's (default: free)")
    parser.add_argument(
        "--database",
        default=None,
        help="a database (and --redis-db) of the soak's own, emptied first (default: the stack's)",
    )
    parser.add_argument("--redis-db", type=int, default=3)
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = args.out / stamp
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"[soak] seed {seed}, {seconds:.0f} s of load; logs in {workdir}", flush=True)

    rig = Rig(workdir, seed, args.port or _free_port())
    started_at = datetime.now(UTC)
    try:
        if args.database:
            rig.use_database(args.database, args.redis_db)
        rig.start()
        merchant, api_key = rig.create_merchant()
        gap = (5.0, 9.0) if seconds < 180 else (6.0, 14.0)
        chaos = Chaos(rig, seed, gap)
        if chaos.skipped:
            print(f"[soak] not supervised by this stack, not killed: {chaos.skipped}")
        chaos.start()
        load = Load(rig.gateway_url, api_key, seed, args.clients)
        asyncio.run(_drive(load, seconds))
        chaos.stop()
        rig.proxy_faults(None)
        for name in CONNECTORS:
            if not rig.acquirer_running(name):
                rig.start_acquirer(name)
            wait_http(f"{rig.acquirer_url(name)}/health", 60)
        history = load.history
        print(f"[soak] load done: {len(history.ops)} operations; settling", flush=True)
        settled_s = _settle(rig, api_key, set(history.refunds), args.settle_s or 180.0)
        reconciliations = _reconcile(rig, merchant, started_at.date())
        acquirers = {name: rig.acquirer_url(name) for name in CONNECTORS}
        snap = asyncio.run(checks.collect(rig.gateway_url, api_key, acquirers, history))
        violations, checked = checks.evaluate(
            snap, history, reconciliations, chaos.log.not_recovered, chaos.log.count("kill")
        )
        counts: dict[str, Any] = {
            "payments": len(history.payments),
            "unacknowledged_payments": len(history.unacknowledged_orders),
            "payments_checked": len(snap.payments),
            "refunds": len(history.refunds),
            "cancels": sum(1 for op in history.ops if op.kind == "cancel" and op.outcome == "ok"),
            "operations": len(history.ops),
            "kills": chaos.log.count("kill"),
            "outages": chaos.log.count("outage"),
            "settled_s": round(settled_s, 1),
            "violations": len(violations),
            "kills_by_target": dict(
                Counter(e["target"] for e in chaos.log.events if e["kind"] == "kill")
            ),
            "proxy_faults": rig.proxy_stats(),
            "statuses": dict(Counter(p.get("status") for p in snap.payments.values())),
            "charges": dict(
                Counter(
                    f"{name}:{row.get('status')}"
                    for books in snap.books.values()
                    for name, answer in books.items()
                    for row in answer.get("charges", [])
                )
            ),
        }
        print(report.table(checked, violations, counts), flush=True)
        path = args.out / f"{stamp}.json"
        report.write(
            path,
            {
                "seed": seed,
                "started_at": started_at.isoformat(),
                "load_s": seconds,
                "settings": GATEWAY_SETTINGS,
                "counts": counts,
                "checked": dict(checked),
                "violations": violations,
                "histories": _histories(rig, api_key, violations),
                "books": {
                    str(v["subject"]): snap.books[v["subject"]]
                    for v in violations
                    if v["subject"] in snap.books
                },
                "reconciliations": reconciliations,
                "chaos": chaos.log.events,
                "operations": [op.as_dict() for op in history.ops],
            },
        )
        print(f"[soak] {len(violations)} violations; record: {path}", flush=True)
        return 1 if violations else 0
    finally:
        rig.stop()


if __name__ == "__main__":
    sys.exit(main())
