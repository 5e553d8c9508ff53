"""Reconciliation: one connector's settlement day against the gateway's own records.

Each side is that connector's alone: the acquirer's lines, and the gateway's items whose
attempt was made *at that connector*, matched by the idempotency key the attempt used
(a payment's charge key, a refund's id). For payments (captures) and refunds alike,
each item lands in one list:
  matched              the acquirer moved it and the gateway holds it as SUCCESS at
                       this connector under this key, same amount;
  charged_not_success  an orphan: the acquirer moved money the gateway does not hold as
                       SUCCESS there under that key (failed, cancelled, succeeded at
                       another connector or under another key, or unknown to us);
                       `reason` says which, and a payment's orphan charge is reversed
                       (services/orphan_charges.py);
  in_flight            the gateway's item is still open (its outcome is being settled by
                       inquiry): not a difference yet, and never reversed;
  success_not_charged  SUCCESS at this connector that day, but the acquirer has no such
                       item (that day, or the day before: a charge just before midnight
                       is recorded by the gateway just after);
  amount_mismatches    both sides have it, with different amounts or currencies.
The caller gives the connection and the settlement lines; nothing here opens a connection
or talks to the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.repository import reconciliation as repo

if TYPE_CHECKING:  # the wire module imports aiohttp: keep it off the cold start
    from chalicelib.connectors.acquirer.wire import SettlementLine
    from chalicelib.db import Connection

SECTIONS = (
    "matched",
    "charged_not_success",
    "success_not_charged",
    "amount_mismatches",
    "in_flight",
)
#: Sections that are no difference between the books.
AGREED = ("matched", "in_flight")
#: Open payments: their charge (or, AUTHORIZED, a capture whose answer was lost) may
#: be booked before the gateway knows it.
OPEN = ("PENDING", "PROCESSING", "AUTHORIZED")


@dataclass
class Section:
    matched: list[str] = field(default_factory=list)
    charged_not_success: list[dict[str, Any]] = field(default_factory=list)
    in_flight: list[dict[str, Any]] = field(default_factory=list)
    success_not_charged: list[dict[str, Any]] = field(default_factory=list)
    amount_mismatches: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SECTIONS}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SECTIONS}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _orphan_reason(ours: dict[str, Any] | None, connector: str) -> str:
    if ours is None:
        return "unknown_payment"
    if ours["status"] != "SUCCESS":
        return str(ours["status"]).lower()
    if ours["connector"] != connector:
        return "succeeded_elsewhere"
    return "other_key"


def _compare(
    lines: list[SettlementLine],
    connector: str,
    ours_by_id: dict[str, dict[str, Any]],
    id_of: Callable[[SettlementLine], str],
    succeeded_that_day: Iterable[dict[str, Any]],
    earlier_keys: set[str],
    merchant_id: str | None,
) -> Section:
    section = Section()
    seen: set[str] = set()
    for line in lines:
        key = line.idempotency_key
        seen.add(key)
        ours = ours_by_id.get(id_of(line))
        if ours is not None and merchant_id is not None and ours["merchant_id"] != merchant_id:
            continue
        owns = (
            ours is not None
            and ours["status"] == "SUCCESS"
            and ours["connector"] == connector
            and ours["charge_key"] == key
        )
        item = {
            "id": ours["id"] if ours else id_of(line),
            "idempotency_key": key,
            "acquirer_id": line.id,
            "amount": line.amount,
            "currency": line.currency,
            "gateway_status": ours["status"] if ours else None,
            "merchant_id": ours["merchant_id"] if ours else None,
        }
        if ours is not None and ours["status"] in OPEN:
            section.in_flight.append({**item, "reason": "in_flight"})
        elif not owns or ours is None:  # (owns implies ours; said for the type checker)
            section.charged_not_success.append({**item, "reason": _orphan_reason(ours, connector)})
        elif ours["amount"] != line.amount or ours["currency"] != line.currency:
            section.amount_mismatches.append(
                {
                    "id": ours["id"],
                    "acquirer_id": line.id,
                    "acquirer_amount": line.amount,
                    "acquirer_currency": line.currency,
                    "gateway_amount": ours["amount"],
                    "gateway_currency": ours["currency"],
                }
            )
        else:
            section.matched.append(ours["id"])
    for ours in succeeded_that_day:
        if ours["charge_key"] not in seen and ours["charge_key"] not in earlier_keys:
            section.success_not_charged.append(
                {"id": ours["id"], "amount": ours["amount"], "currency": ours["currency"]}
            )
    return section


def reconcile(
    conn: Connection,
    day: date,
    lines: list[SettlementLine],
    earlier_lines: list[SettlementLine],
    merchant_id: str | None = None,
    connector: str = "acquirer",
) -> dict[str, Section]:
    """Compare `connector`'s settlement of `day` (and the day before) with our records."""
    start, end = day_bounds(day)
    captures = [line for line in lines if line.type == "capture"]
    refunds = [line for line in lines if line.type == "refund"]
    payments = _compare(
        captures,
        connector,
        repo.find_payments_by_ids(conn, [line.payment_id for line in captures]),
        lambda line: line.payment_id,
        repo.find_payments_succeeded_between_at_connector(conn, connector, start, end, merchant_id),
        {line.idempotency_key for line in earlier_lines if line.type == "capture"},
        merchant_id,
    )
    refund_section = _compare(
        refunds,
        connector,
        repo.find_refunds_by_ids(conn, [line.idempotency_key for line in refunds]),
        lambda line: line.idempotency_key,
        repo.find_refunds_succeeded_between_at_connector(conn, connector, start, end, merchant_id),
        {line.idempotency_key for line in earlier_lines if line.type == "refund"},
        merchant_id,
    )
    return {"payments": payments, "refunds": refund_section}


def summary(sections: dict[str, Section]) -> dict[str, Any]:
    counts = {name: section.counts() for name, section in sections.items()}
    mismatches = sum(
        count[name] for count in counts.values() for name in SECTIONS if name not in AGREED
    )
    return {**counts, "mismatches": mismatches}
