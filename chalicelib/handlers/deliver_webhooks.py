"""The `deliver_webhooks` scheduled handler: claim due deliveries, send, record, reschedule.

Due deliveries are leased (`FOR UPDATE SKIP LOCKED`, the attempt counted at claim)
into free sending slots, at most `webhook_endpoint_concurrency` per endpoint; each
send has one total deadline (adapters/webhook_sender.py); each attempt is recorded
and its delivery settled as soon as its send ends. Slots are refilled while
deliveries are due and the invocation has time for one more send.

At-least-once: a handler that dies after sending but before recording leaves the
delivery leased; when the lease ends it is due again and is sent again with the
same `webhook-id`, which is how receivers deduplicate.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any

import psycopg

from chalicelib import db, settings
from chalicelib.adapters import kms
from chalicelib.adapters.kms import SealedSecretError
from chalicelib.adapters.webhook_sender import SendResult, send
from chalicelib.clock import isoformat, utcnow
from chalicelib.deadline import remaining_ms
from chalicelib.errors import ServiceUnavailableError
from chalicelib.repository import webhooks as webhook_repo

log = logging.getLogger(__name__)

#: Kept free at the end of an invocation for the last write and the return.
SAFETY_MARGIN_MS = 2000
#: Lease beyond the round's worst-case sending time, for the write that records it.
LEASE_SLACK_S = 60.0
#: While sends are in flight, due deliveries are looked for this often.
POLL_S = 0.25
#: A decrypted secret is kept in memory this long (one KMS Decrypt per endpoint per period).
OPEN_CACHE_S = 300.0
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


def _time_for_one_more(context: Any, timeout_s: float) -> bool:
    """Whether a send started now ends (at its deadline at worst) before the margin."""
    left_ms = remaining_ms(context)
    return left_ms is None or left_ms - SAFETY_MARGIN_MS >= timeout_s * 1000


def deliver_webhooks(context: Any = None) -> dict[str, Any]:
    """One scheduled run; returns {"sent", "succeeded", "failed", "retried", "duration_ms"}.

    A pipeline, not rounds: free slots are filled with due deliveries as soon as they
    free up (and every POLL_S while sends are in flight), each result is recorded the
    moment its send ends, and one endpoint never holds more than
    `webhook_endpoint_concurrency` slots. A receiver that stalls costs its own slots
    for one deadline each, never the other merchants' deliveries.
    """
    cfg = settings.get_settings()
    started = time.perf_counter()
    summary: Counter[str] = Counter(sent=0, succeeded=0, failed=0, retried=0)
    error = None
    concurrency = min(cfg.webhook_concurrency, cfg.webhook_batch_size)
    in_flight: dict[Future[tuple[SendResult, datetime]], dict[str, Any]] = {}
    per_endpoint: Counter[str] = Counter()
    try:
        with ThreadPoolExecutor(concurrency, thread_name_prefix="webhook") as pool:
            while True:
                free = concurrency - len(in_flight)
                if free > 0 and _time_for_one_more(context, cfg.webhook_timeout_s):
                    for row in _claim(free, per_endpoint, cfg.webhook_endpoint_concurrency):
                        in_flight[pool.submit(_attempt, row)] = row
                        per_endpoint[row["endpoint_id"]] += 1
                if not in_flight:
                    break
                done, _ = wait(in_flight, timeout=POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    row = in_flight.pop(future)
                    per_endpoint[row["endpoint_id"]] -= 1
                    _record(row, *_outcome(future, row), summary)
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


def _claim(free: int, per_endpoint: Counter[str], cap: int) -> list[dict[str, Any]]:
    """Lease up to `free` due deliveries, none beyond an endpoint's `cap` in flight."""
    cfg = settings.get_settings()
    now = utcnow()
    lease_until = now + timedelta(seconds=cfg.webhook_timeout_s + LEASE_SLACK_S)
    busy = {endpoint: n for endpoint, n in per_endpoint.items() if n > 0}
    max_attempts = len(cfg.webhook_retry_schedule_s) + 1  # as `settle` counts them
    with db.unit_of_work() as uow:
        webhook_repo.end_exhausted_deliveries(uow.conn, now, max_attempts)
        return webhook_repo.claim_due_deliveries(
            uow.conn,
            now,
            lease_until,
            free,
            max_attempts=max_attempts,
            per_endpoint_cap=cap,
            in_flight=busy,
        )


def _outcome(
    future: Future[tuple[SendResult, datetime]], row: dict[str, Any]
) -> tuple[SendResult, datetime]:
    """The attempt's result; whatever it raised becomes that attempt's error, so that
    one delivery never stops the run or another merchant's deliveries."""
    try:
        return future.result()
    except Exception as exc:
        log.exception("webhook attempt raised", extra=row_ids(row))
        return SendResult(False, None, None, f"internal error: {type(exc).__name__}", 0), utcnow()


def _attempt(row: dict[str, Any]) -> tuple[SendResult, datetime]:
    cfg = settings.get_settings()
    at = utcnow()
    try:
        secrets = signing_secrets(row, at)
    except SealedSecretError as exc:
        log.warning(
            "webhook secret unavailable",
            extra={"endpoint_id": row["endpoint_id"], "error": str(exc)},
        )
        return SendResult(False, None, None, "signing secret unavailable", 0), at
    body = event_body(row["event_id"], row["type"], row["event_created_at"], row["data"])
    result = send(
        row["url"],
        message_id=row["event_id"],
        body=body,
        secret=secrets,
        timeout_s=cfg.webhook_timeout_s,
        allow_private=cfg.webhook_allow_private_hosts,
    )
    return result, at


def signing_secrets(row: dict[str, Any], now: datetime) -> list[str]:
    """The endpoint's secrets, newest first: the current one, and the one it replaced
    while that still signs (24 h after a rotation). Opened with KMS, cached briefly."""
    context = kms.context_for(row["merchant_id"], row["endpoint_id"])
    current = row["secret_sealed"]
    found = [_open(current, context) if current is not None else row["secret"]]
    previous = row.get("previous_secret_sealed")
    until = row.get("previous_secret_expires_at")
    if previous is not None and until is not None and until > now:
        try:
            found.append(_open(previous, context))
        except SealedSecretError:  # the new secret still signs
            log.warning("previous webhook secret unavailable", extra=row_ids(row))
    return found


def row_ids(row: dict[str, Any]) -> dict[str, Any]:
    return {"endpoint_id": row["endpoint_id"], "event_id": row["event_id"]}


_opened: dict[str, tuple[str, float]] = {}
_opened_lock = threading.Lock()


def _open(sealed: dict[str, Any], context: dict[str, str]) -> str:
    """Decrypt once per OPEN_CACHE_S per sealed secret (one KMS call, not one per send)."""
    cache_key = context["endpoint_id"] + ":" + str(sealed.get("key"))
    now = time.monotonic()
    hit = _opened.get(cache_key)
    if hit is not None and hit[1] > now:
        return hit[0]
    secret = kms.open_sealed(sealed, context).decode()
    with _opened_lock:
        _opened[cache_key] = (secret, now + OPEN_CACHE_S)
    return secret


def _record(row: dict[str, Any], result: SendResult, at: datetime, summary: Counter[str]) -> None:
    """Record one attempt and settle its delivery, in a transaction of its own."""
    cfg = settings.get_settings()
    now = utcnow()
    status, next_at = settle(
        row["attempt"], row["attempt_limit"], result.ok, cfg.webhook_retry_schedule_s, now
    )
    columns: dict[str, list[Any]] = {
        "delivery_ids": [row["delivery_id"]],
        "attempts": [row["attempt"]],
        "statuses": ["succeeded" if result.ok else "failed"],
        "response_statuses": [result.response_status],
        "bodies": [result.response_body],
        "errors": [result.error],
        "durations": [result.duration_ms],
        "ats": [at],
        "delivery_statuses": [status],
        "next_attempt_ats": [next_at],
    }
    with db.unit_of_work() as uow:
        settled = webhook_repo.record_attempts(uow.conn, columns, now)
    summary["sent"] += 1
    for settled_row in settled:
        key = {"succeeded": "succeeded", "failed": "failed"}.get(settled_row["status"], "retried")
        summary[key] += 1
