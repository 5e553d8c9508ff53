"""The connector calls of one drain worker that are in flight, and their answers.

A worker claims rows while it has room (its share of DRAIN_IN_FLIGHT), starts their
calls on the connectors' loop without waiting for them, and finishes what has been
answered, in groups, as the answers come back. Against a network acquirer whose latency
has a long tail this keeps the window full, where waiting for whole batches would wait,
batch after batch, for each batch's slowest call. A connector that answers a batch at
once (the in-process simulator) is still called per batch: its rows arrive together.

No database connection or row lock is held while calls are in flight: the rows were
claimed (PROCESSING, committed) before their calls started, and their stream entries
stay unacknowledged until the transaction that finishes them has committed.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.connectors import get_connector, runner
from chalicelib.queue.kinds import Row, WorkKind

#: How long a finish waits for more answers when fewer than a group have arrived.
GATHER_S = 0.02


@dataclass(frozen=True)
class Answered:
    row: Row
    #: the connector's answer, or the exception its call raised
    answer: Any
    #: answered by a connector that answers each call on its own (not a batch call)
    each_call: bool = False


class InFlight:
    """The rows of one kind whose calls are running: at most `capacity` calls to
    connectors that answer each call on its own, or one batch for the others."""

    def __init__(self, kind: WorkKind, capacity: int) -> None:
        self.kind = kind
        self.capacity = capacity
        self._each_call = 0  # rows in flight on connectors that answer call by call
        self._batched = 0  # rows in flight on connectors that answer a batch at once
        self._last_claim_each_call = True
        self._arrived: queue.SimpleQueue[Answered] = queue.SimpleQueue()

    @property
    def count(self) -> int:
        """Rows whose calls are in flight."""
        return self._each_call + self._batched

    def claimable(self, batch_size: int, step: int) -> int:
        """How many rows to claim now; 0 while a batch is out or there is no room for
        `step` more calls. After a claim that went only to batch connectors (the
        simulator), a whole batch: such a batch is answered at once, as before."""
        if self._batched:
            return 0
        if not self._last_claim_each_call:
            return batch_size if not self.count else 0
        room = self.capacity - self._each_call
        return min(batch_size, room) if room >= step or not self.count else 0

    def start(self, rows: list[Row]) -> None:
        """Start the calls of `rows` (claimed, committed); their answers arrive later."""
        each_call = sum(_answers_each_call(row["connector"]) for row in rows)
        self._each_call += each_call
        self._batched += len(rows) - each_call
        self._last_claim_each_call = each_call > 0
        put = self._arrived.put
        asyncio.run_coroutine_threadsafe(call_all(self.kind, rows, put), runner.loop())

    def answered(self, wait_s: float, group: int) -> list[Answered]:
        """The answers that have arrived: waits up to `wait_s` for the first, and up to
        GATHER_S more while fewer than `group` are in. Empty only when none came."""
        try:
            got = [self._arrived.get(timeout=wait_s)]
        except queue.Empty:
            return []
        until = time.monotonic() + GATHER_S
        while True:
            try:
                got.append(self._arrived.get_nowait())
                continue
            except queue.Empty:
                left = until - time.monotonic()
            if len(got) >= group or left <= 0:
                break
            try:
                got.append(self._arrived.get(timeout=left))
            except queue.Empty:
                break
        each_call = sum(a.each_call for a in got)
        self._each_call -= each_call
        self._batched -= len(got) - each_call
        return got


def _answers_each_call(name: str) -> bool:
    try:
        return get_connector(name).answers_each_call
    except Exception:  # an unknown connector: its rows fail alone, in call_all
        return False


async def call_all(kind: WorkKind, rows: list[Row], deliver: Callable[[Answered], Any]) -> None:
    """Every row's call, each answer delivered as soon as it is known.

    Rows go to their own connector: one call per row to a connector that answers each
    call on its own, one batch call per connector otherwise. A call that raises
    delivers its exception, for that row alone.
    """
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row["connector"], []).append(row)
    calls = []
    for name, group in groups.items():
        try:
            connector = get_connector(name)
        except Exception as exc:  # an unknown connector: each of its rows fails alone
            for row in group:
                deliver(Answered(row, exc))
            continue
        if connector.answers_each_call:
            calls += [_one(kind, connector, row, deliver) for row in group]
        else:
            calls.append(_batch(kind, connector, group, deliver))
    await asyncio.gather(*calls)


async def _one(
    kind: WorkKind, connector: Any, row: Row, deliver: Callable[[Answered], Any]
) -> None:
    try:
        answer = await kind.call_one(connector, row)
    except Exception as exc:
        answer = exc
    deliver(Answered(row, answer, each_call=True))


async def _batch(
    kind: WorkKind, connector: Any, rows: list[Row], deliver: Callable[[Answered], Any]
) -> None:
    try:
        answers = await kind.call(connector, rows)
    except Exception as exc:
        answers = [exc] * len(rows)
    for row, answer in zip(rows, answers, strict=True):
        deliver(Answered(row, answer))
