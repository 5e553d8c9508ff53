"""Reconciliation: an acquirer's settlement day against the gateway's own records.

For payments (captures) and refunds alike, each item lands in one list:
  matched              the acquirer moved it and the gateway says SUCCESS, same amount;
  charged_not_success  the acquirer moved money the gateway does not hold as SUCCESS
                       (unknown to the gateway, still open, failed or cancelled);
  success_not_charged  SUCCESS in the gateway that day, but the acquirer has no such item
                       (that day, or the day before: a charge just before midnight is
                       recorded by the gateway just after);
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

SECTIONS = ("matched", "charged_not_success", "success_not_charged", "amount_mismatches")


@dataclass
class Section:
    matched: list[str] = field(default_factory=list)
    charged_not_success: list[dict[str, Any]] = field(default_factory=list)
    success_not_charged: list[dict[str, Any]] = field(default_factory=list)
    amount_mismatches: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SECTIONS}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SECTIONS}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _compare(
    lines: list[SettlementLine],
    key_of: Callable[[SettlementLine], str],
    ours_by_id: dict[str, dict[str, Any]],
    succeeded_that_day: Iterable[dict[str, Any]],
    earlier_keys: set[str],
    merchant_id: str | None,
) -> Section:
    section = Section()
    seen: set[str] = set()
    for line in lines:
        key = key_of(line)
        seen.add(key)
        ours = ours_by_id.get(key)
        if ours is not None and merchant_id is not None and ours["merchant_id"] != merchant_id:
            continue
        if ours is None or ours["status"] != "SUCCESS":
            section.charged_not_success.append(
                {
                    "id": key,
                    "acquirer_id": line.id,
                    "amount": line.amount,
                    "currency": line.currency,
                    "gateway_status": ours["status"] if ours else None,
                }
            )
        elif ours["amount"] != line.amount or ours["currency"] != line.currency:
            section.amount_mismatches.append(
                {
                    "id": key,
                    "acquirer_id": line.id,
                    "acquirer_amount": line.amount,
                    "acquirer_currency": line.currency,
                    "gateway_amount": ours["amount"],
                    "gateway_currency": ours["currency"],
                }
            )
        else:
            section.matched.append(key)
    for ours in succeeded_that_day:
        if ours["id"] not in seen and ours["id"] not in earlier_keys:
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
) -> dict[str, Section]:
    """Compare the settlement of `day` (and the day before) with the gateway's records."""
    start, end = day_bounds(day)
    captures = [line for line in lines if line.type == "capture"]
    refunds = [line for line in lines if line.type == "refund"]
    payments = _compare(
        captures,
        lambda line: line.idempotency_key,
        repo.find_payments_by_ids(conn, [line.idempotency_key for line in captures]),
        repo.find_payments_succeeded_between(conn, start, end, merchant_id),
        {line.idempotency_key for line in earlier_lines if line.type == "capture"},
        merchant_id,
    )
    refund_section = _compare(
        refunds,
        lambda line: line.idempotency_key,
        repo.find_refunds_by_ids(conn, [line.idempotency_key for line in refunds]),
        repo.find_refunds_succeeded_between(conn, start, end, merchant_id),
        {line.idempotency_key for line in earlier_lines if line.type == "refund"},
        merchant_id,
    )
    return {"payments": payments, "refunds": refund_section}


def summary(sections: dict[str, Section]) -> dict[str, Any]:
    counts = {name: section.counts() for name, section in sections.items()}
    mismatches = sum(
        count[name] for count in counts.values() for name in SECTIONS if name != "matched"
    )
    return {**counts, "mismatches": mismatches}
