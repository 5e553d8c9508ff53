"""The retry policy: what one connector attempt makes of a queued row.

`succeeded` → SUCCESS; `declined` → FAILED; `transient_error` (the acquirer
certainly did not act) → PENDING again with exponential backoff and full jitter,
or FAILED once MAX_ATTEMPTS were made; `unknown` (the money may have moved) → the
row stays PROCESSING until an inquiry settles it (`inquiry_state`). Never FAILED
while an outcome is unknown: that would release the order and charge twice.

Only a definitive answer settles an unknown outcome: `succeeded`, `declined`, or
`not_charged` (a void confirmed by key). An inquiry's `not_found` is not one: the
request may still be on its way to the acquirer (docs/architecture.md).
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
    if outcome == "unknown":
        return NextState("PROCESSING", None, False)
    if attempt >= cfg.max_attempts:
        return NextState("FAILED", None, True)
    delay = backoff_seconds(attempt, cfg.retry_base_s, cfg.retry_cap_s)
    return NextState("PENDING", now + timedelta(seconds=delay), False)


def backoff_seconds(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
    return random.uniform(0, min(cap_s, base_s * 2 ** max(0, attempt - 1)))


class InquiryState(NamedTuple):
    status: str  # the inquiry's: RESOLVED, or PENDING to ask again
    resolution: str | None  # succeeded | declined | not_charged
    next_attempt_at: datetime | None
    flag: bool  # unanswered for too long: the operator must look
    object_status: str | None  # the payment's (refund's) new status, None while unknown
    object_next_attempt_at: datetime | None
    exhausted: bool
    #: a void by key is due: every later step voids (the inquiry's `void_required`)
    void_required: bool = False


def inquiry_state(
    answer: str,
    inquiries_made: int,
    object_attempt: int,
    first_unknown_at: datetime,
    now: datetime,
    *,
    retry_after_void: bool = True,
    void_required: bool = False,
) -> InquiryState:
    """What one settling inquiry's answer (`succeeded`, `declined`, `not_charged`, or
    anything else: ask again) settles."""
    cfg = settings.get_settings()
    if answer == "succeeded":
        return InquiryState("RESOLVED", "succeeded", None, False, "SUCCESS", None, False)
    if answer == "declined":
        return InquiryState("RESOLVED", "declined", None, False, "FAILED", None, False)
    if answer == "not_charged":
        # A confirmed void: the attempt certainly charged nothing and never will, and
        # the inquiry already waited, so a retry is due at once.
        if not retry_after_void:
            return InquiryState("RESOLVED", "not_charged", None, False, "FAILED", None, True)
        state = next_state("transient_error", object_attempt, now)
        due = now if state.status == "PENDING" else None
        return InquiryState(
            "RESOLVED", "not_charged", None, False, state.status, due, state.exhausted
        )
    flag = (now - first_unknown_at).total_seconds() >= cfg.inquiry_flag_after_s
    if answer == "void_required":
        # No record yet: the void is committed as due (this finish), and sent at once by
        # the next step, never before the commit.
        return InquiryState("PENDING", None, now, flag, None, None, False, True)
    delay = backoff_seconds(inquiries_made, cfg.inquiry_base_s, cfg.inquiry_cap_s)
    return InquiryState(
        "PENDING",
        None,
        now + timedelta(seconds=max(delay, cfg.inquiry_base_s / 2)),
        flag,
        None,
        None,
        False,
        void_required,  # a void once due stays due: ask again by voiding again
    )


def count(summary: Counter[str], prefix: str, statuses: list[str]) -> None:
    """Add finished rows to the run's summary."""
    for status in statuses:
        key = {"SUCCESS": "succeeded", "FAILED": "failed", "PROCESSING": "unknown"}.get(
            status, "retried"
        )
        summary[prefix + key] += 1
