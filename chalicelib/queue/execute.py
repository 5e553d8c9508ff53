"""The one finish path, the same for every kind of work.

  call    — the connector calls of claimed rows run concurrently (`inflight`), each
            keyed by the row's id, so a redelivered row is never charged or refunded
            twice;
  finish  — the answers that have come back, their history and their events (the
            transactional outbox) commit in one set-based statement and one transaction.
A crash between the two is safe: the stream entry comes back after the visibility
timeout, the row is claimed again at the same attempt and connector, and the
connector replays the answer it already gave.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg
import redis

from chalicelib import db, faults, settings
from chalicelib.clock import utcnow
from chalicelib.connectors import routing
from chalicelib.errors import ServiceUnavailableError
from chalicelib.queue import connector_metrics, retry, sql
from chalicelib.queue.kinds import Row, WorkKind
from chalicelib.repository import events

log = logging.getLogger("gateway.queue")

INFRASTRUCTURE_ERRORS = (psycopg.OperationalError, redis.RedisError, ServiceUnavailableError)


def finish_isolating_failures(
    kind: WorkKind, rows: list[Row], answers: list[Any], summary: Counter[str]
) -> dict[str, str]:
    """Finish answered rows in one transaction; if that fails unexpectedly, finish them
    one by one, so that one poison row does not hold the others back. Returns the rows
    that could not be finished, with the error (their entries are not acknowledged)."""
    try:
        finish(kind, rows, answers, summary)
        return {}
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:
        log.exception("%s finish failed; finishing its rows one by one", kind.name)
    errors: dict[str, str] = {}
    for row, answer in zip(rows, answers, strict=True):
        try:
            finish(kind, [row], [answer], summary)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            errors[row["id"]] = f"{type(exc).__name__}: {exc}"[:1000]
    return errors


def finish(kind: WorkKind, claimed: list[Row], answers: list[Any], summary: Counter[str]) -> None:
    """Write the answers of claimed rows, their history and their events, at once."""
    faults.crash_point(kind.crash_after_call)
    if kind.is_attempt:
        _observe_attempts(kind, claimed, answers)
    now = utcnow()
    columns: dict[str, Any] = db.as_columns(
        [kind.finish_values(row, answer, now) for row, answer in zip(claimed, answers, strict=True)]
    )
    cfg = settings.get_settings()
    if kind.is_attempt:  # when an inquiry opened by this finish is first due
        columns["inquiry_due"] = now + timedelta(seconds=cfg.inquiry_first_delay_s)
    with db.unit_of_work() as uow:
        finished = sql.finish(uow.conn, kind.finish_statement, columns, now)
        events.record_events_for_objects(uow.conn, _events(kind, finished))
    if not kind.is_attempt:
        _log_resolutions(kind, finished)
    retry.count(summary, kind.counter_prefix, [row[kind.status_column] for row in finished])
    if kind.crash_after_commit:
        faults.crash_point(kind.crash_after_commit)


def _events(kind: WorkKind, finished: list[Row]) -> list[tuple[str, str, Any]]:
    """(merchant, event type, object) for each finished row whose status records events."""
    recorded = []
    for row in finished:
        types = kind.event_types.get(row["status"])
        if types is None:
            continue
        rendered = kind.render(row)
        for event_type in (types,) if isinstance(types, str) else types:
            recorded.append((row["merchant_id"], event_type, rendered))
    return recorded


def _observe_attempts(kind: WorkKind, claimed: list[Row], answers: list[Any]) -> None:
    """Feed the breakers and the run's connector figures; one log line per unknown."""
    per_connector: dict[str, list[Any]] = {}
    failovers: Counter[str] = Counter()
    for row, answer in zip(claimed, answers, strict=True):
        per_connector.setdefault(row["connector"], []).append(answer)
        failovers[row["connector"]] += bool(row.get("failed_over"))
        if answer.outcome == "unknown":
            log.warning(
                "attempt outcome unknown",
                extra={
                    "kind": kind.name,
                    "id": row["id"],
                    "attempt": row["attempts"],
                    "connector": row["connector"],
                    "failure_code": answer.failure_code,
                    "latency_ms": answer.latency_ms,
                },
            )
    for name, results in per_connector.items():
        failed = sum(r.outcome in ("unknown", "transient_error") for r in results)
        routing.record_calls(name, len(results) - failed, failed)
        connector_metrics.record(name, results, failovers[name])


def _log_resolutions(kind: WorkKind, finished: list[Row]) -> None:
    for row in finished:
        log.info(
            "unknown outcome resolved by inquiry",
            extra={
                "kind": kind.name,
                "id": row["id"],
                "attempt": row["attempts"],
                "connector": row["connector"],
                "resolution": row["inquiry_resolution"],
                "status": row["status"],
            },
        )
