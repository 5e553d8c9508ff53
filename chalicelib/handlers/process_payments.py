"""The `process_payments` scheduled handler: drain every kind of queued work.

One run drains the payments stream, then the refunds stream (`drain.drain`), and
writes one summary line in CloudWatch embedded metric format. Infrastructure
failures stop the run early without losing anything: nothing uncommitted was
acknowledged, and the next run completes the work.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections import Counter
from typing import Any

from chalicelib import db, metrics, settings
from chalicelib.clock import utcnow
from chalicelib.connectors import routing
from chalicelib.deadline import RunClock
from chalicelib.queue import connector_metrics, kinds, sql
from chalicelib.queue.drain import COUNTERS, INFRASTRUCTURE_ERRORS, drain

log = logging.getLogger(__name__)


def process_payments(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns its summary (also emitted as one EMF log line)."""
    cfg = settings.get_settings()
    started = time.perf_counter()
    summary: Counter[str] = Counter()
    # A batch started with less left than one connector deadline could not finish.
    margin_ms = max(cfg.time_budget_margin_ms, int(cfg.acquirer_deadline_s * 1000) + 5000)
    clock = RunClock(context, margin_ms)
    connector_metrics.start_run()
    consumer = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    error = None
    queue_lag_s = 0.0
    try:
        with db.unit_of_work(write=False) as uow:
            queue_lag_s = sql.oldest_due_payment_age_s(uow.conn, utcnow())
        for kind in kinds.ALL:
            drain(kind, consumer, clock, summary)
    except INFRASTRUCTURE_ERRORS as exc:
        error = f"{type(exc).__name__}: dependency unavailable"
        log.warning("process_payments stopped early", extra={"error": error})
    result: dict[str, Any] = {
        "handler": "process_payments",
        **{k: summary[k] for k in COUNTERS},
        **{k: v for k, v in summary.items() if k not in COUNTERS},
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        result["error"] = error
    emit_summary(result, queue_lag_s, cfg.stage)
    opened = routing.open_breakers(set(cfg.connectors) | set(cfg.acquirer_urls))
    result["connectors"] = connector_metrics.emit(cfg.stage, opened)
    return result


def emit_summary(result: dict[str, Any], queue_lag_s: float, stage: str) -> None:
    """The run's one summary line, in CloudWatch embedded metric format."""
    metrics.emit(
        {"Handler": "process_payments", "Stage": stage},
        {
            "Claimed": (result["claimed"], "Count"),
            "Succeeded": (result["succeeded"], "Count"),
            "Failed": (result["failed"], "Count"),
            "Retried": (result["retried"], "Count"),
            "UnknownOutcomes": (result["unknown"] + result.get("refunds_unknown", 0), "Count"),
            "DeadLettered": (result["dead_lettered"], "Count"),
            "Swept": (result["swept"], "Count"),
            "RefundsSucceeded": (result.get("refunds_succeeded", 0), "Count"),
            "RefundsFailed": (result.get("refunds_failed", 0), "Count"),
            "BatchDuration": (result["duration_ms"], "Milliseconds"),
            "QueueLag": (round(queue_lag_s, 3), "Seconds"),
        },
        {
            "message": "process_payments summary",
            "level": "error" if "error" in result else "info",
            **({"error": result["error"]} if "error" in result else {}),
        },
    )
