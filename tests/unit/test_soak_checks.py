"""The soak's invariants (infra/soak/checks.py) on planted histories and books: each one
catches what it names and passes what is allowed, including the acquirer answers that
issue 22 adds (`in_progress`, `reversed`, the `refunds` list)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.soak.checks import Snapshot, evaluate
from infra.soak.load import History

CLEAN_RECONCILIATION = [{"connector": "acquirer", "summary": {"mismatches": 0}}]


def _charge(status: str, refunded: int = 0, key: str = "pay_1") -> dict[str, Any]:
    return {"idempotency_key": key, "status": status, "amount": 1000, "amount_refunded": refunded}


def _world(
    status: str,
    books: dict[str, dict[str, Any]],
    refunds: list[dict[str, Any]] | None = None,
    events: dict[str, Counter[str]] | None = None,
) -> tuple[Snapshot, History]:
    history = History(payments={"pay_1": 1000})
    snap = Snapshot(
        payments={"pay_1": {"id": "pay_1", "status": status, "amount": 1000}},
        refunds={"pay_1": refunds or []},
        books={"pay_1": books},
    )
    terminal = {"SUCCESS": "payment.succeeded", "FAILED": "payment.failed"}.get(status)
    snap.events = events or ({terminal: Counter({"pay_1": 1})} if terminal else {})
    return snap, history


def _broken(snap: Snapshot, history: History, reconciliations=CLEAN_RECONCILIATION) -> set[str]:
    violations, _checked = evaluate(snap, history, reconciliations, [])
    return {v["invariant"] for v in violations}


def test_one_standing_charge_and_success_is_clean() -> None:
    books = {"acquirer": {"charges": [_charge("succeeded")]}, "acquirer2": {"charges": []}}
    assert _broken(*_world("SUCCESS", books)) == set()


def test_a_double_charge_breaks_both_charge_invariants() -> None:
    books = {
        "acquirer": {"charges": [_charge("succeeded")]},
        "acquirer2": {"charges": [_charge("succeeded")]},
    }
    assert _broken(*_world("SUCCESS", books)) == {
        "at_most_one_standing_charge",
        "success_iff_one_standing_charge",
    }


def test_a_reversed_orphan_beside_the_standing_charge_is_clean() -> None:
    books = {
        "acquirer": {"charges": [_charge("reversed")]},
        "acquirer2": {"charges": [_charge("succeeded")]},
    }
    assert _broken(*_world("SUCCESS", books)) == set()


def test_a_failed_payment_with_a_charge_or_a_charge_still_processing() -> None:
    charged = {"acquirer": {"charges": [_charge("succeeded")]}}
    assert _broken(*_world("FAILED", charged)) == {"success_iff_one_standing_charge"}
    processing = {"acquirer": {"charges": [_charge("in_progress")]}}
    assert _broken(*_world("FAILED", processing)) == {"success_iff_one_standing_charge"}


def test_an_acknowledged_payment_not_final() -> None:
    assert _broken(*_world("PROCESSING", {})) == {"acknowledged_exists_and_final"}


def test_refunds_beyond_the_capture_or_not_as_booked() -> None:
    refunds = [
        {"id": "re_1", "status": "SUCCESS", "amount": 800},
        {"id": "re_2", "status": "SUCCESS", "amount": 800},
    ]
    events = {
        "payment.succeeded": Counter({"pay_1": 1}),
        "refund.succeeded": Counter({"re_1": 1, "re_2": 1}),
    }
    books = {"acquirer": {"charges": [_charge("succeeded", refunded=800)]}}
    violations, _ = evaluate(*_world("SUCCESS", books, refunds, events), CLEAN_RECONCILIATION, [])
    details = sorted(v["detail"] for v in violations)
    assert details == [
        "gateway refunded 1600, acquirers booked 800",
        "refunded 1600 of 1000 captured",
    ]


def test_refunds_matched_one_by_one_when_the_acquirer_lists_them() -> None:
    refunds = [{"id": "re_1", "status": "FAILED", "amount": 300}]
    events = {
        "payment.succeeded": Counter({"pay_1": 1}),
        "refund.failed": Counter({"re_1": 1}),
    }
    listed = [
        {"charge_key": "pay_1", "refund_id": "re_1", "amount": 300, "status": "succeeded"},
        # the reversal of an orphan charge at the other acquirer: not the customer's
        {"charge_key": "pay_1", "refund_id": "rv_1", "amount": 1000, "status": "succeeded"},
    ]
    books = {
        "acquirer": {"charges": [_charge("succeeded", refunded=300)], "refunds": listed[:1]},
        "acquirer2": {"charges": [_charge("reversed")], "refunds": listed[1:]},
    }
    violations, _ = evaluate(*_world("SUCCESS", books, refunds, events), CLEAN_RECONCILIATION, [])
    assert [(v["subject"], v["invariant"]) for v in violations] == [
        ("pay_1", "refunds_within_capture_and_booked"),  # booked 300, gateway refunded 0
        ("re_1", "refunds_within_capture_and_booked"),  # FAILED here, succeeded there
    ]


def test_terminal_events_exactly_one_of_the_right_kind() -> None:
    books = {"acquirer": {"charges": [_charge("succeeded")]}}
    twice = {"payment.succeeded": Counter({"pay_1": 2})}
    assert _broken(*_world("SUCCESS", books, events=twice)) == {"one_terminal_event"}
    both = {"payment.succeeded": Counter({"pay_1": 1}), "payment.failed": Counter({"pay_1": 1})}
    assert _broken(*_world("SUCCESS", books, events=both)) == {"one_terminal_event"}


def test_reconciliation_differences_500s_and_processes_that_stayed_dead() -> None:
    snap, history = _world("SUCCESS", {"acquirer": {"charges": [_charge("succeeded")]}})
    history.http_500.append({"path": "/api/v1/payments", "status": 500, "body": "{}"})
    dirty = [{"connector": "acquirer", "summary": {"mismatches": 3}}]
    violations, checked = evaluate(snap, history, dirty, [{"target": "redis"}], kills=4)
    assert {v["invariant"] for v in violations} == {
        "reconciliation_clean",
        "no_500",
        "supervision",
    }
    assert checked["supervision"] == 4


def _manual(status: str, captured: int, books: dict[str, dict[str, Any]]) -> set[str]:
    snap, history = _world(status, books)
    snap.payments["pay_1"].update(capture_method="manual", amount_captured=captured)
    if status == "CANCELLED":
        snap.events = {"payment.cancelled": Counter({"pay_1": 1})}
    return _broken(snap, history)


def _authorization(state: str, captured: int | None = None, status: str = "succeeded"):
    return {**_charge(status), "capture_state": state, "amount_captured": captured}


def _capture(amount: int, key: str = "pay_1") -> dict[str, Any]:
    return {"id": f"cp_{amount}", "charge_key": key, "amount": amount, "status": "succeeded"}


def test_a_partial_capture_as_booked_is_clean() -> None:
    books = {
        "acquirer": {"charges": [_authorization("captured", 600)], "captures": [_capture(600)]}
    }
    assert _manual("SUCCESS", 600, books) == set()


def test_a_second_capture_or_one_beyond_the_authorization_is_caught() -> None:
    twice = {
        "acquirer": {
            "charges": [_authorization("captured", 600)],
            "captures": [_capture(600), _capture(300)],
        }
    }
    assert _manual("SUCCESS", 600, twice) == {"captures_within_authorization"}
    beyond = {"acquirer": {"charges": [_authorization("captured", 1200)], "captures": []}}
    assert "captures_within_authorization" in _manual("SUCCESS", 1200, beyond)
    differs = {"acquirer": {"charges": [_authorization("captured", 500)], "captures": []}}
    assert _manual("SUCCESS", 600, differs) == {"captures_within_authorization"}


def test_a_capture_after_a_void_is_caught() -> None:
    books = {
        "acquirer": {
            "charges": [_authorization("voided", status="voided")],
            "captures": [_capture(400)],
        }
    }
    assert _manual("CANCELLED", 0, books) == {"no_capture_after_void"}
    clean = {"acquirer": {"charges": [_authorization("voided", status="voided")], "captures": []}}
    assert _manual("CANCELLED", 0, clean) == set()
