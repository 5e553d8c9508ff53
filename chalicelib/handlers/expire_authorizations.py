"""The `expire_authorizations` scheduled handler: void authorizations past their deadline.

A manual-capture payment's authorization lasts AUTHORIZATION_TTL_S (`capture_before`).
Each run queues a void (reason `expired`) for AUTHORIZED payments past it, in committed
batches while time lasts; the drain sends the voids, and the payments end CANCELLED
with `cancellation_reason: "expired"`. A payment with a capture or void already under
way is left to it (one operation per payment), so a capture racing the sweep has one
outcome.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib import db, settings
from chalicelib.clock import utcnow
from chalicelib.deadline import RunClock
from chalicelib.services.captures import expire_authorizations as expire

log = logging.getLogger(__name__)

#: Stop when the invocation has less than this left (the next run goes on).
MARGIN_MS = 5_000


def expire_authorizations(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns `{"voids_queued": n, "duration_ms": ms}`."""
    started = time.perf_counter()
    limit = settings.get_settings().expiry_sweep_limit
    queued = 0
    while True:
        with db.unit_of_work() as uow:
            batch = expire(uow, utcnow(), limit)
        queued += batch
        if batch < limit or not RunClock(context, MARGIN_MS).has_time():
            break
    summary = {
        "voids_queued": queued,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if queued:
        log.info("expire_authorizations summary", extra={"summary": summary})
    return summary
