"""Ids, timestamps, the error mapping and the retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from chalicelib import ids
from chalicelib.clock import isoformat
from chalicelib.errors import ConflictError, error_body
from chalicelib.queue.retry import backoff_seconds


def test_ids_are_prefixed_unique_and_time_ordered() -> None:
    made = [ids.new_id(ids.PAYMENT) for _ in range(1000)]
    assert len(set(made)) == 1000
    assert all(i.startswith("pay_") and len(i) == 28 for i in made)
    assert made[0][:12] <= made[-1][:12]
    batch = ids.new_ids(ids.EVENT, 1000)
    assert len(set(batch) | set(ids.new_ids(ids.EVENT, 1000))) == 2000
    assert all(i.startswith("evt_") and len(i) == 28 and ids.has_prefix(i, "evt") for i in batch)
    assert ids.new_ids(ids.EVENT, 0) == []


def test_timestamps_are_utc_with_milliseconds_and_z() -> None:
    value = datetime(
        2026, 11, 26, 13, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    assert isoformat(value) == "2026-11-26T08:00:00.123Z"
    assert isoformat(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"
    assert isoformat(datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC)) == "0999-01-02T03:04:05.999Z"
    assert isoformat(None) is None


def test_unknown_exceptions_become_a_bare_500_without_details() -> None:
    status, body, headers = error_body(RuntimeError("SELECT secret FROM keys"))
    assert status == 500
    assert body["error"]["type"] == "api_error"
    assert body["error"]["code"] == "internal_error"
    assert "SELECT" not in str(body)
    assert headers == {}


def test_gateway_errors_carry_status_code_param_and_extra_fields() -> None:
    exc = ConflictError(
        "x", code="order_has_active_payment", param="order_id", extra={"payment_id": "pay_1"}
    )
    status, body, _ = error_body(exc)
    assert status == 409
    assert body == {
        "error": {
            "type": "invalid_request_error",
            "code": "order_has_active_payment",
            "message": "x",
            "param": "order_id",
            "payment_id": "pay_1",
        }
    }


def test_backoff_is_full_jitter_bounded_by_cap() -> None:
    for attempt in range(1, 8):
        bound = min(8.0, 1.0 * 2 ** (attempt - 1))
        samples = [backoff_seconds(attempt, 1.0, 8.0) for _ in range(500)]
        assert all(0 <= s <= bound for s in samples)
        assert max(samples) > bound * 0.8  # jitter spans the range


def test_utc_now_is_aware() -> None:
    from chalicelib.clock import utcnow

    assert utcnow().tzinfo is UTC
