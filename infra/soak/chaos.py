"""The soak's faults over time: the proxy's network faults, seeded kills and outages.

A thread, so that a kill's blocking calls never stall the load's event loop. Every
event is recorded with when it happened and how long the victim took to come back;
a victim that does not come back within `RECOVERY_S` is a violation (supervision).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from infra.soak.rig import Rig

#: the proxy's faults while the load runs (rates per request)
PROXY_FAULTS = {
    "latency_rate": 0.25,
    "latency_ms": [50, 1500],
    "drop_after_request": 0.04,
    "reset_after_answer": 0.04,
    "blackhole": 0.02,
}
#: (weight, event); kills of a service the stack does not supervise are left out
EVENTS: list[tuple[int, str]] = [
    (3, "server_worker"),
    (1, "server"),
    (3, "scheduler"),
    (2, "redis"),
    (2, "postgres"),
    (2, "acquirer"),
    (2, "acquirer2"),
    (4, "outage"),
]
RECOVERY_S = 60.0


@dataclass
class ChaosLog:
    events: list[dict[str, Any]] = field(default_factory=list)
    not_recovered: list[dict[str, Any]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e["kind"] == kind)


class Chaos(threading.Thread):
    def __init__(self, rig: Rig, seed: int, gap_s: tuple[float, float]) -> None:
        super().__init__(name="soak-chaos", daemon=True)
        self.rig = rig
        self.rng = random.Random(seed)
        self.gap_s = gap_s
        self.stopping = threading.Event()
        self.log = ChaosLog()
        supervised = rig.supervised
        self.events = [
            (w, e) for w, e in EVENTS if e not in ("redis", "postgres") or e in supervised
        ]
        self.skipped = sorted({e for _, e in EVENTS} - {e for _, e in self.events})

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=RECOVERY_S + 30)

    def run(self) -> None:
        self.rig.proxy_faults(PROXY_FAULTS)
        # One of each kind first (in a seeded order), so that a short run sees them all;
        # then at random, by weight.
        first_kinds = [e for _, e in self.events]
        first = list(first_kinds)
        self.rng.shuffle(first)
        while not self.stopping.wait(self.rng.uniform(*self.gap_s)):
            weights = [w for w, _ in self.events]
            kind = first.pop() if first else self.rng.choices(first_kinds, weights)[0]
            try:
                self._event(kind)
            except Exception as exc:
                self.log.events.append({"at": time.time(), "kind": kind, "error": repr(exc)})

    def _event(self, kind: str) -> None:
        at = time.time()
        if kind == "outage":
            name = self.rng.choice(["acquirer", "acquirer2"])
            what = self.rig.acquirer_down(name, self.rng.uniform(3, 10))
            self.log.events.append({"at": at, "kind": "outage", "what": what})
            print(f"[soak] outage: {what}", flush=True)
            return
        pid, what = self.rig.kill(kind)
        event: dict[str, Any] = {"at": at, "kind": "kill", "target": kind, "pid": pid}
        self.log.events.append(event)
        print(f"[soak] kill {what} (pid {pid})", flush=True)
        if kind in ("acquirer", "acquirer2"):  # the soak's own processes: it restarts them
            time.sleep(self.rng.uniform(1, 5))
            self.rig.start_acquirer(kind)
        started = time.monotonic()
        while time.monotonic() - started < RECOVERY_S:
            if self.rig.recovered(kind, pid):
                event["recovered_s"] = round(time.monotonic() - started, 2)
                return
            time.sleep(0.2)
        self.log.not_recovered.append(event)
        print(f"[soak] {what} did not come back within {RECOVERY_S:.0f} s", flush=True)
