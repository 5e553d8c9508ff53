"""The retry policy: what one connector attempt makes of a queued row.

`succeeded` → SUCCESS; `declined` → FAILED; `transient_error` (the acquirer
certainly did not act) → PENDING again with exponential backoff and full jitter,
or FAILED once MAX_ATTEMPTS were made.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from typing import NamedTuple

from chalicelib import settings

#: The failure code of a row that used up its attempts on transient errors.
EXHAUSTED_CODE = "processor_unavailable"


class NextState(NamedTuple):
    status: str
    next_attempt_at: datetime | None
    exhausted: bool


def next_state(outcome: str, attempt: int, now: datetime) -> NextState:
    """(status, next attempt time, exhausted) after attempt number `attempt`."""
    cfg = settings.get_settings()
    if outcome == "succeeded":
        return NextState("SUCCESS", None, False)
    if outcome == "declined":
        return NextState("FAILED", None, False)
    if attempt >= cfg.max_attempts:
        return NextState("FAILED", None, True)
    delay = backoff_seconds(attempt, cfg.retry_base_s, cfg.retry_cap_s)
    return NextState("PENDING", now + timedelta(seconds=delay), False)


def backoff_seconds(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return random.uniform(0, min(cap_s, base_s * 2 ** max(0, attempt - 1)))


def count(summary: Counter[str], prefix: str, statuses: list[str]) -> None:
    """Add finished rows to the run's summary."""
    for status in statuses:
        key = {"SUCCESS": "succeeded", "FAILED": "failed"}.get(status, "retried")
        summary[prefix + key] += 1
