"""The queue's rules for unknown outcomes (issue 22), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.connectors.base import AttemptResult
from chalicelib.queue import kinds, retry

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
FIRST = NOW - timedelta(seconds=5)


def test_no_record_makes_a_void_due_now_and_settles_nothing() -> None:
    state = retry.inquiry_state("void_required", 1, 1, FIRST, NOW)
    assert (state.status, state.object_status, state.void_required) == ("PENDING", None, True)
    assert state.next_attempt_at == NOW  # the next step sends the void, after this commit


def test_a_due_void_stays_due_until_a_definitive_answer() -> None:
    unanswered = retry.inquiry_state("unknown", 2, 1, FIRST, NOW, void_required=True)
    assert (unanswered.status, unanswered.void_required) == ("PENDING", True)
    assert unanswered.object_status is None  # never failed while unknown
    voided = retry.inquiry_state("not_charged", 3, 1, FIRST, NOW, void_required=True)
    assert (voided.status, voided.resolution, voided.object_status) == (
        "RESOLVED",
        "not_charged",
        "PENDING",  # retried, under a new charge key
    )


def test_not_found_alone_is_never_definitive() -> None:
    state = retry.inquiry_state("not_found", 1, 5, FIRST, NOW)
    assert (state.status, state.object_status, state.exhausted) == ("PENDING", None, False)


def test_a_voided_refund_fails_and_says_why() -> None:
    state = retry.inquiry_state("not_charged", 1, 1, FIRST, NOW, retry_after_void=False)
    assert (state.object_status, state.exhausted) == ("FAILED", True)


def test_a_replay_after_a_lost_call_that_was_not_processed_is_unknown() -> None:
    """The handler died mid-call; the re-claim's replay got "not processed". The first
    call may have charged: the attempt is unknown, never retried elsewhere."""
    refused = AttemptResult("transient_error", "processor_unavailable", "down")
    replayed = kinds.replayed_outcome({"previous_status": "PROCESSING"}, refused)
    assert replayed.outcome == "unknown"
    fresh = kinds.replayed_outcome({"previous_status": "PENDING"}, refused)
    assert fresh.outcome == "transient_error"
    values = kinds._payment_values(
        {"id": "pay_1", "attempts": 5, "claimed_at": NOW, "previous_status": "PROCESSING"},
        refused,
        NOW,
    )
    assert values["statuses"] == "PROCESSING" and values["inquiry_ids"] is not None
