"""The `prune_idempotency_keys` scheduled handler: delete expired records in batches."""

from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib import db
from chalicelib.deadline import RunClock
from chalicelib.services.idempotency import prune_expired

log = logging.getLogger(__name__)

PRUNE_BATCH = 10_000
#: Stop pruning when the invocation has less than this left (the next run goes on).
PRUNE_MARGIN_MS = 5_000


def prune(context: Any = None, batch: int = PRUNE_BATCH) -> dict[str, Any]:
    """The scheduled prune: delete expired records in committed batches.

    Each batch is its own short transaction, so a large backlog never holds locks
    for long; the loop stops when a batch comes back short or the Lambda context
    runs low on time. Returns `{"pruned": n, "batches": b, "duration_ms": ms}`.
    """
    started = time.perf_counter()
    pruned = batches = 0
    while True:
        with db.unit_of_work() as uow:
            removed = prune_expired(uow.conn, batch)
        pruned += removed
        batches += 1
        if removed < batch or not RunClock(context, PRUNE_MARGIN_MS).has_time():
            break
    summary = {
        "pruned": pruned,
        "batches": batches,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    log.info("prune_idempotency_keys summary", extra={"summary": summary})
    return summary
