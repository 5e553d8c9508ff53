"""After the soak has settled: read every party's books and check the invariants.

The acquirers' books are read directly (not through the fault proxy), per payment:
`GET /admin/books?payment_id=` → `{"charges": [...], "refunds"?: [...]}`. A standing
charge is one whose status is `succeeded`; fields that an older acquirer lacks are
read defensively.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra.soak.load import History

FINAL = {"SUCCESS", "FAILED", "CANCELLED"}
TERMINAL_EVENT = {
    "SUCCESS": "payment.succeeded",
    "FAILED": "payment.failed",
    "CANCELLED": "payment.cancelled",
}
INVARIANTS = {
    "acknowledged_exists_and_final": "every payment answered 2xx exists and is final",
    "at_most_one_standing_charge": "at most one standing charge per payment, all acquirers",
    "success_iff_one_standing_charge": "SUCCESS iff exactly one standing charge",
    "refunds_within_capture_and_booked": "refunds final, within the capture, as booked",
    "captures_within_authorization": "one capture per authorization, within it, as booked",
    "no_capture_after_void": "no capture of an authorization that was voided",
    "one_terminal_event": "exactly one terminal event per final payment and refund",
    "reconciliation_clean": "reconciliation finds no unexplained difference",
    "no_500": "no answer was a 500",
    "supervision": "every killed process came back",
}


@dataclass
class Snapshot:
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    refunds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    books: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # pay -> acq
    events: dict[str, Counter[str]] = field(default_factory=dict)  # type -> object id


async def _get(http: httpx.AsyncClient, url: str, **params: Any) -> httpx.Response:
    for attempt in range(20):
        try:
            response = await http.get(url, params=params or None)
            if response.status_code not in (429, 502, 503, 504):
                return response
        except httpx.HTTPError:
            pass
        await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
    raise RuntimeError(f"no answer from {url}")


async def collect(
    base_url: str, api_key: str, acquirers: dict[str, str], history: History
) -> Snapshot:
    snap = Snapshot()
    limit = asyncio.Semaphore(12)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with (
        httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as api,
        httpx.AsyncClient(timeout=30) as books,
    ):

        async def one_payment(payment_id: str) -> None:
            async with limit:
                found = await _get(api, f"/api/v1/payments/{payment_id}")
                if found.status_code != 200:
                    snap.missing.append(payment_id)
                    return
                snap.payments[payment_id] = found.json()
                listed = await _get(api, f"/api/v1/payments/{payment_id}/refunds", limit=100)
                snap.refunds[payment_id] = listed.json().get("data", [])
                snap.books[payment_id] = {}
                for name, url in acquirers.items():
                    answer = await _get(books, f"{url}/admin/books", payment_id=payment_id)
                    snap.books[payment_id][name] = answer.json()

        async def by_order(order_id: str) -> None:
            async with limit:
                listed = await _get(api, "/api/v1/payments", order_id=order_id)
            for payment in listed.json().get("data", []):
                await one_payment(payment["id"])

        await asyncio.gather(*(one_payment(p) for p in history.payments))
        await asyncio.gather(*(by_order(o) for o in history.unacknowledged_orders))
        for kind in (*TERMINAL_EVENT.values(), "refund.succeeded", "refund.failed"):
            snap.events[kind] = Counter()
            after: str | None = None
            while True:
                params: dict[str, Any] = {"type": kind, "limit": 100}
                if after:
                    params["starting_after"] = after
                page = (await _get(api, "/api/v1/events", **params)).json()
                for event in page.get("data", []):
                    snap.events[kind][(event.get("data") or {}).get("id")] += 1
                if not page.get("has_more") or not page.get("data"):
                    break
                after = page["data"][-1]["id"]
    return snap


def evaluate(
    snap: Snapshot,
    history: History,
    reconciliations: list[dict[str, Any]],
    not_recovered: list[dict[str, Any]],
    kills: int = 0,
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """(violations, how many items each invariant checked)."""
    violations: list[dict[str, Any]] = []
    checked: Counter[str] = Counter()

    def bad(invariant: str, subject: str | None, detail: str) -> None:
        violations.append({"invariant": invariant, "subject": subject, "detail": detail})

    for payment_id in snap.missing:
        bad("acknowledged_exists_and_final", payment_id, "answered 202, now not found")
    checked["acknowledged_exists_and_final"] = len(history.payments)
    for payment_id, payment in snap.payments.items():
        status = payment.get("status")
        if payment_id in history.payments and status not in FINAL:
            bad("acknowledged_exists_and_final", payment_id, f"still {status}")
        rows = [
            (name, row)
            for name, answer in snap.books.get(payment_id, {}).items()
            for row in answer.get("charges", [])
        ]
        standing = [(name, row) for name, row in rows if row.get("status") == "succeeded"]
        where = ", ".join(f"{n}:{r.get('status')}" for n, r in rows) or "none"
        checked["at_most_one_standing_charge"] += 1
        if len(standing) > 1:
            bad("at_most_one_standing_charge", payment_id, f"{status}; charges {where}")
        checked["success_iff_one_standing_charge"] += 1
        if status in FINAL and (status == "SUCCESS") != (len(standing) == 1):
            bad("success_iff_one_standing_charge", payment_id, f"{status}; charges {where}")
        if any(row.get("status") in ("in_progress", "processing") for _, row in rows):
            bad(
                "success_iff_one_standing_charge",
                payment_id,
                f"still in progress at the acquirer: {where}",
            )
        _check_captures(payment_id, payment, snap, standing, bad, checked)
        _check_refunds(payment_id, payment, snap, standing, bad, checked)
        if status in FINAL:
            checked["one_terminal_event"] += 1
            counts = {k: snap.events.get(k, Counter())[payment_id] for k in TERMINAL_EVENT.values()}
            if counts[TERMINAL_EVENT[status]] != 1 or sum(counts.values()) != 1:
                bad("one_terminal_event", payment_id, f"{status}; events {counts}")
    for summary in reconciliations:
        checked["reconciliation_clean"] += 1
        mismatches = (summary.get("summary") or {}).get("mismatches")
        if mismatches != 0:
            detail = summary.get("error") or f"{mismatches} mismatches: {summary.get('summary')}"
            bad("reconciliation_clean", summary.get("connector"), str(detail)[:500])
    checked["no_500"] = len(history.ops)
    for answer in history.http_500:
        bad("no_500", answer["path"], f"{answer['status']} {answer['body'][:200]}")
    checked["supervision"] = kills
    for event in not_recovered:
        bad("supervision", event.get("target"), f"not back within 60 s: {event}")
    return violations, checked


def _check_captures(payment_id, payment, snap, standing, bad, checked) -> None:
    """A manual payment's books: at most one capture, never beyond the authorization, never
    of a voided one, and the gateway's `amount_captured` is what the acquirer captured."""
    if payment.get("capture_method") != "manual":
        return
    checked["captures_within_authorization"] += 1
    checked["no_capture_after_void"] += 1
    rows = [
        (name, row)
        for name, answer in snap.books.get(payment_id, {}).items()
        for row in answer.get("charges", [])
    ]
    captures = [
        (name, row)
        for name, answer in snap.books.get(payment_id, {}).items()
        for row in answer.get("captures") or []
        if row.get("status") == "succeeded"
    ]
    if len(captures) > 1:
        bad("captures_within_authorization", payment_id, f"{len(captures)} captures")
    for name, row in rows:
        captured = row.get("amount_captured")
        if captured is not None and int(captured) > int(row.get("amount") or 0):
            bad("captures_within_authorization", payment_id, f"{name}: {captured} > authorized")
        if row.get("capture_state") == "voided" and captured is not None:
            bad("no_capture_after_void", payment_id, f"{name}: voided with {captured} captured")
    voided = {(n, r.get("idempotency_key")) for n, r in rows if r.get("capture_state") == "voided"}
    for name, row in captures:
        if (name, row.get("charge_key")) in voided:
            bad("no_capture_after_void", payment_id, f"{name}: {row.get('id')} after a void")
    status = payment.get("status")
    booked = sum(
        int(row.get("amount_captured") or 0)
        for _, row in standing
        if row.get("capture_state") == "captured"
    )
    if status == "SUCCESS" and booked != int(payment.get("amount_captured") or 0):
        detail = f"gateway captured {payment.get('amount_captured')}, acquirers booked {booked}"
        bad("captures_within_authorization", payment_id, detail)
    if status == "CANCELLED" and captures:
        bad("no_capture_after_void", payment_id, "CANCELLED, yet captured at the acquirer")


def _check_refunds(payment_id, payment, snap, standing, bad, checked) -> None:
    refunds = snap.refunds.get(payment_id, [])
    if not refunds:
        return
    invariant = "refunds_within_capture_and_booked"
    checked[invariant] += len(refunds)
    succeeded = [r for r in refunds if r.get("status") == "SUCCESS"]
    total = sum(int(r.get("amount") or 0) for r in succeeded)
    for refund in refunds:
        if refund.get("status") not in ("SUCCESS", "FAILED"):
            bad(invariant, refund.get("id"), f"refund still {refund.get('status')}")
        kind = {"SUCCESS": "refund.succeeded", "FAILED": "refund.failed"}.get(refund.get("status"))
        if kind:
            checked["one_terminal_event"] += 1
            counts = {
                k: snap.events.get(k, Counter())[refund.get("id")]
                for k in ("refund.succeeded", "refund.failed")
            }
            if counts[kind] != 1 or sum(counts.values()) != 1:
                bad("one_terminal_event", refund.get("id"), f"{refund.get('status')}; {counts}")
    captured = payment.get("amount_captured") or payment.get("amount")
    if total > int(captured or 0):
        bad(invariant, payment_id, f"refunded {total} of {captured} captured")
    booked = sum(int(row.get("amount_refunded") or 0) for _, row in standing)
    if booked != total:
        bad(invariant, payment_id, f"gateway refunded {total}, acquirers booked {booked}")
    # The customer's refunds are those of the standing charge; a refund that reversed an
    # orphan charge (its charge no longer standing) is the acquirer's own business.
    standing_keys = {(name, row.get("idempotency_key")) for name, row in standing}
    at_acquirers: dict[str, dict[str, Any]] = defaultdict(dict)
    for name, answer in snap.books.get(payment_id, {}).items():
        for row in answer.get("refunds") or []:
            if "charge_key" in row and (name, row["charge_key"]) not in standing_keys:
                continue
            at_acquirers[str(row.get("refund_id"))] = {**row, "acquirer": name}
    if not any("refunds" in answer for answer in snap.books.get(payment_id, {}).values()):
        return  # an acquirer without the refunds list: the totals above are all we have
    for refund in refunds:
        row = at_acquirers.get(str(refund.get("id")))
        moved = row is not None and row.get("status") == "succeeded"
        if (refund.get("status") == "SUCCESS") != moved or (
            moved and int(row.get("amount") or 0) != int(refund.get("amount") or 0)  # type: ignore[union-attr]
        ):
            bad(invariant, refund.get("id"), f"gateway {refund.get('status')}, acquirer {row}")
    known = {str(refund.get("id")) for refund in refunds}
    for refund_id, row in at_acquirers.items():
        if row.get("status") == "succeeded" and refund_id not in known:
            bad(invariant, refund_id, f"refunded at {row['acquirer']}, unknown to the gateway")
