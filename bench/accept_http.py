"""HTTP accept with wrk: 8 keep-alive connections, on the fast stack and a durable one.

Each figure is the median of five alternating rounds (`BENCH_ROUNDS`, in ABBA order) of ours
(`workers.serve`: granian and the app) and its floor (`bench.floor_server`: the same
granian, same workers and threads, hosting a bare WSGI callable that issues the same
SQL and XADD), so both see the same spells of this noisy machine. The server's CPU
per accept (all its processes, from /proc) is reported for both. Every request
carries an Idempotency-Key (bench/accept.lua). On the fast stack a third side, the
Chalice floor (the floor's accept as a bare Chalice route behind our adapter), splits
what we add into Chalice with the adapter, and our own request pipeline. On the durable
stack the third side is the Node/Express/Bull peer (bench/node_peer, without group
commit), and the group-commit settings are measured too (`BENCH_COMMIT_DELAYS`).
"""

from __future__ import annotations

import os
import statistics
from typing import Any

import psycopg
import redis as redis_lib
from psycopg.rows import dict_row

from bench import durable, wrk
from bench.accept import start_server, stop_server
from bench.common import drain_everything, new_merchant
from chalicelib import settings
from chalicelib.services import merchants

#: Five, not three: single rounds' ratios spread 0.59-1.03 in one run on this machine.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def _seconds() -> float:
    return float(os.environ.get("BENCH_WRK_SECONDS", "8"))


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its descendants
    (granian's workers), from /proc."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(") ", 1)[1].split()
            with open(f"/proc/{current}/task/{current}/children") as f:
                pending += [int(child) for child in f.read().split()]
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _wrk_round(env: dict[str, str], api_key: str, side: str) -> dict[str, Any]:
    process, url = start_server(env, side)
    try:
        wrk.run(url, api_key, 2)  # warm-up: connections, pools, caches, prepared plans
        cpu_before = server_cpu_s(process.pid)
        result = wrk.run(url, api_key, _seconds())
        result["cpu_ms"] = 1000 * (server_cpu_s(process.pid) - cpu_before) / result["requests"]
    finally:
        stop_server(process)
    assert result["status_errors"] == 0 and result["socket_errors"] == 0, result
    return result


def _alternate(env: dict[str, str], api_key: str, sides: tuple[str, ...]) -> dict[str, dict]:
    """Each side's medians; every side but the floor also gets each round's own ratio to
    the floor (`round_ratios`): this machine's spells move all sides, so their spread says
    more about a change than the medians' ratio alone."""
    rounds: dict[str, list[dict]] = {side: [] for side in sides}
    for index in range(ROUNDS):
        # ABBA: forward in even rounds, backward in odd ones, so that no side always
        # runs on the state another left (the tables grow every round).
        for side in sides if index % 2 == 0 else sides[::-1]:
            rounds[side].append(_wrk_round(env, api_key, side))
    medians = {side: _median(results) for side, results in rounds.items()}
    for side in sides:
        if side != "floor":
            pairs = zip(rounds[side], rounds["floor"], strict=True)
            medians[side]["round_ratios"] = [round(o["rate"] / f["rate"], 2) for o, f in pairs]
    return medians


def _median(results: list[dict]) -> dict[str, Any]:
    return {
        name: statistics.median(r[name] for r in results)
        for name in ("rate", "p50_ms", "p99_ms", "requests", "cpu_ms")
    }


def _figures(stack: str, ours: dict, floor: dict, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": f"accept_http_wrk_{stack}",
            "value": round(ours["rate"]),
            "unit": "payments/s",
            "floor": round(floor["rate"]),
            "ratio": round(ours["rate"] / floor["rate"], 2),
            "p50_ms": round(ours["p50_ms"], 2),
            "floor_p50_ms": round(floor["p50_ms"], 2),
            # Server CPU (all its processes, from /proc) per accept, under wrk.
            "cpu_ms_per_accept": round(ours["cpu_ms"], 3),
            "floor_cpu_ms_per_accept": round(floor["cpu_ms"], 3),
            "rounds": ROUNDS,
            "round_ratios": ours["round_ratios"],
            **extra,
        },
        {
            "name": f"accept_http_wrk_{stack}_p99",
            "value": round(ours["p99_ms"], 2),
            "unit": "ms",
            "floor": round(floor["p99_ms"], 2),
            "ratio": round(ours["p99_ms"] / floor["p99_ms"], 2),
            **extra,
        },
    ]


def measure_fast() -> list[dict[str, Any]]:
    """The `make bench` stack (fsync off), with the Chalice floor as a third side: the
    floor's accept as a bare Chalice route behind our adapter. Its ratio is what Chalice
    and the adapter cost by themselves; ours against it, what the gateway's own request
    pipeline costs (authentication, validation, idempotency, the contract's answer)."""
    drain_everything()
    merchant = new_merchant()
    sides = _alternate({}, merchant.api_key, ("ours", "floor", "chalice_floor"))
    drain_everything()
    ours, floor, chalice = sides["ours"], sides["floor"], sides["chalice_floor"]
    chalice_figure = _figures("fast_chalice_floor", chalice, floor)[0]
    chalice_figure["ours_to_it"] = round(ours["rate"] / chalice["rate"], 2)
    return [*_figures("fast", ours, floor), chalice_figure]


def _durable_merchant(url: str) -> str:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            return merchants.create_merchant(conn, "Benchmark merchant").api_key


def _peer_figure(ours: dict, peer: dict, floor: dict) -> dict[str, Any]:
    """Ours against the Node/Express/Bull peer (bench/node_peer), both on the durable stack:
    the issue's goal is ours at 1.5x the peer's rate or more."""
    return {
        "name": "accept_http_wrk_durable_vs_node_peer",
        "value": round(ours["rate"]),
        "unit": "payments/s",
        "peer": round(peer["rate"]),
        "ratio": round(ours["rate"] / peer["rate"], 2),
        "goal_ratio": 1.5,
        "p99_ms": round(ours["p99_ms"], 2),
        "peer_p99_ms": round(peer["p99_ms"], 2),
        "cpu_ms_per_accept": round(ours["cpu_ms"], 3),
        "peer_cpu_ms_per_accept": round(peer["cpu_ms"], 3),
        "peer_to_floor": round(peer["rate"] / floor["rate"], 2),
        "rounds": ROUNDS,
        "peer_round_ratios": peer["round_ratios"],  # the peer's own rate to the floor's
    }


def measure_durable() -> list[dict[str, Any]]:
    """A second server with fsync and synchronous_commit on; group commit measured at each
    `BENCH_COMMIT_DELAYS` (µs, `commit_siblings` 2; 0 is off, Postgres's default), ours
    and the floor under the same setting."""
    delays = [int(d) for d in os.environ.get("BENCH_COMMIT_DELAYS", "0,100").split(",")]
    redis_url = settings.redis_url().rsplit("/", 1)[0] + "/3"  # its own Redis db
    figures: list[dict[str, Any]] = []
    with durable.durable_postgres() as url:
        env = {"DATABASE_URL": url, "REDIS_URL": redis_url}
        api_key = _durable_merchant(url)
        for delay in delays:
            durable.set_group_commit(url, delay, 2)
            seen = durable.check_durable(url)
            assert seen["fsync"] == "on" and seen["synchronous_commit"] == "on", seen
            # The Node peer once, without group commit: Postgres's default, as it was measured.
            names = ("ours", "floor", "node_peer") if delay == 0 else ("ours", "floor")
            sides = _alternate(env, api_key, names)
            ours, floor = sides["ours"], sides["floor"]
            extra = {"commit_delay_us": delay, "commit_siblings": 2}
            name = "durable" if delay == 0 else f"durable_delay{delay}"
            figures += _figures(name, ours, floor, **extra)
            if "node_peer" in sides:
                figures.append(_peer_figure(ours, sides["node_peer"], floor))
        durable.set_group_commit(url, 0, 5)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("TRUNCATE payments, payment_history, idempotency_keys CASCADE")
    redis_lib.Redis.from_url(redis_url).flushdb()
    return figures
