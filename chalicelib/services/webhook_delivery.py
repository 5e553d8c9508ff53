"""The `deliver_webhooks` scheduled handler: claim due deliveries, send, record, reschedule.

One round: lease up to a batch of due deliveries (`FOR UPDATE SKIP LOCKED`, the
attempt counted at claim), send them concurrently, then record every attempt and
settle every delivery in one set-based statement. Rounds repeat while deliveries
are due and the invocation has time for one more round.

At-least-once: a handler that dies after sending but before recording leaves the
delivery leased; when the lease ends it is due again and is sent again with the
same `webhook-id`, which is how receivers deduplicate.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import psycopg

from chalicelib import db, settings
from chalicelib.clock import isoformat, utcnow
from chalicelib.deadline import remaining_ms
from chalicelib.errors import ServiceUnavailableError
from chalicelib.repository import webhooks as webhook_repo
from chalicelib.services.webhook_sender import SendResult, send

log = logging.getLogger(__name__)

#: Kept free at the end of an invocation for the last write and the return.
SAFETY_MARGIN_MS = 2000
#: Lease beyond the round's worst-case sending time, for the write that records it.
LEASE_SLACK_S = 60.0
#: Retries are spread by up to this fraction later than the schedule (never earlier).
JITTER = 0.2


def event_body(event_id: str, event_type: str, created_at: datetime, data: Any) -> str:
    """The delivered JSON body; the same bytes on every try of the same event."""
    return json.dumps(
        {"id": event_id, "type": event_type, "timestamp": isoformat(created_at), "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def retry_delay_s(attempt: int, schedule: list[float]) -> float:
    """Wait after failed attempt `attempt` (1-based): the schedule's entry plus jitter."""
    base = schedule[min(attempt, len(schedule)) - 1]
    return base * (1 + random.uniform(0, JITTER))


def settle(
    attempt: int, attempt_limit: int | None, ok: bool, schedule: list[float], now: datetime
) -> tuple[str, datetime | None]:
    """The delivery's new status and next attempt time after this attempt."""
    if ok:
        return "succeeded", None
    limit = attempt_limit if attempt_limit is not None else len(schedule) + 1
    if attempt >= limit or not schedule:
        return "failed", None
    return "pending", now + timedelta(seconds=retry_delay_s(attempt, schedule))


def _round_size(context: Any, batch_size: int, concurrency: int, timeout_s: float) -> int:
    """How many deliveries this round may take so that it ends before the margin."""
    left_ms = remaining_ms(context)
    if left_ms is None:
        return batch_size
    spare_ms = left_ms - SAFETY_MARGIN_MS
    waves = int(spare_ms // (timeout_s * 1000))  # each wave of sends takes ≤ one timeout
    return max(0, min(batch_size, waves * concurrency))


def deliver_webhooks(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns {"sent", "succeeded", "failed", "retried", "duration_ms"}."""
    cfg = settings.get_settings()
    started = time.perf_counter()
    summary: Counter[str] = Counter(sent=0, succeeded=0, failed=0, retried=0)
    error = None
    concurrency = min(cfg.webhook_concurrency, cfg.webhook_batch_size)
    try:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="webhook") as pool:
            while True:
                size = _round_size(
                    context, cfg.webhook_batch_size, concurrency, cfg.webhook_timeout_s
                )
                if size == 0:
                    break
                taken = _deliver_round(pool, size, concurrency, summary)
                if taken < size:
                    break
    except (psycopg.OperationalError, ServiceUnavailableError) as exc:
        # Leased rows come back when their lease ends; nothing is lost.
        error = f"{type(exc).__name__}: dependency unavailable"
        log.warning("deliver_webhooks stopped early", extra={"error": error})
    result: dict[str, Any] = {
        **summary,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        result["error"] = error
    if summary["sent"] or error:
        log.info("deliver_webhooks summary", extra={"summary": result})
    return result


def _deliver_round(
    pool: ThreadPoolExecutor, size: int, concurrency: int, summary: Counter[str]
) -> int:
    cfg = settings.get_settings()
    now = utcnow()
    waves = math.ceil(size / concurrency)
    lease_until = now + timedelta(seconds=waves * cfg.webhook_timeout_s + LEASE_SLACK_S)
    with db.transaction() as conn:
        claimed = webhook_repo.claim_due_deliveries(conn, now, lease_until, size)
    if not claimed:
        return 0

    def attempt(row: dict[str, Any]) -> tuple[SendResult, datetime]:
        body = event_body(row["event_id"], row["type"], row["event_created_at"], row["data"])
        at = utcnow()
        result = send(
            row["url"],
            message_id=row["event_id"],
            body=body,
            secret=row["secret"],
            previous_secret=row["previous_secret"],
            timeout_s=cfg.webhook_timeout_s,
            allow_private=cfg.webhook_allow_private_hosts,
        )
        return result, at

    outcomes = list(pool.map(attempt, claimed))
    _record(claimed, outcomes, summary)
    return len(claimed)


def _record(
    claimed: list[dict[str, Any]],
    outcomes: list[tuple[SendResult, datetime]],
    summary: Counter[str],
) -> None:
    cfg = settings.get_settings()
    now = utcnow()
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "delivery_ids",
            "attempts",
            "statuses",
            "response_statuses",
            "bodies",
            "errors",
            "durations",
            "ats",
            "delivery_statuses",
            "next_attempt_ats",
        )
    }
    for row, (result, at) in zip(claimed, outcomes, strict=True):
        status, next_at = settle(
            row["attempt"], row["attempt_limit"], result.ok, cfg.webhook_retry_schedule_s, now
        )
        columns["delivery_ids"].append(row["delivery_id"])
        columns["attempts"].append(row["attempt"])
        columns["statuses"].append("succeeded" if result.ok else "failed")
        columns["response_statuses"].append(result.response_status)
        columns["bodies"].append(result.response_body)
        columns["errors"].append(result.error)
        columns["durations"].append(result.duration_ms)
        columns["ats"].append(at)
        columns["delivery_statuses"].append(status)
        columns["next_attempt_ats"].append(next_at)
    with db.transaction() as conn:
        settled = webhook_repo.record_attempts(conn, columns, now)
    summary["sent"] += len(claimed)
    for row in settled:
        key = {"succeeded": "succeeded", "failed": "failed"}.get(row["status"], "retried")
        summary[key] += 1
