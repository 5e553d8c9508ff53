"""At most one charge (issue 22): an unknown attempt stays unknown until the acquirer
settles it, whatever its inquiries say in the meantime.

The reproduction: the acquirer charges `slow@upi` 3 s late, the gateway gives up after
1 s, and the first inquiry comes at once, while the acquirer is still processing. Today's
code read the inquiry's 404 as "never charged", retried elsewhere (or failed the payment),
and the late charge landed anyway: charged twice, or failed and charged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib import db, settings
from chalicelib.connectors import SIMULATOR
from tests.integration.acquirer_drain import (
    accept_payments,
    accept_refunds,
    drain_until_final,
    merchant_on,
    register,
    statuses,
)
from tests.integration.acquirer_process import AcquirerProcess, started
from tests.support import wait_until


@pytest.fixture
def acquirer(tmp_path: Path) -> Iterator[AcquirerProcess]:
    yield from started(tmp_path)


@pytest.fixture
def quick_inquiries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The settings of the reproduction: the first inquiry at once, a small breaker."""
    monkeypatch.setenv("INQUIRY_FIRST_DELAY_S", "0")
    monkeypatch.setenv("INQUIRY_BASE_S", "0.3")
    monkeypatch.setenv("INQUIRY_CAP_S", "1")
    monkeypatch.setenv("BREAKER_MIN_CALLS", "5")
    settings.reset_settings()
    yield
    monkeypatch.undo()
    settings.reset_settings()


def _standing_at_acquirer(acquirer: AcquirerProcess, payment_id: str) -> int:
    return sum(c["status"] == "succeeded" for c in acquirer.charges_for(payment_id))


def _standing_at_simulator(payment_id: str) -> int:
    with db.connection() as conn:
        row = conn.execute(
            "SELECT count(*) AS n FROM processor_sim.charges"
            " WHERE payment_id = %s AND outcome = 'succeeded'",
            (payment_id,),
        ).fetchone()
    return int(row["n"])


def _assert_at_most_one_charge(acquirer: AcquirerProcess, payment_ids: list[str]) -> None:
    """Across both books: at most one standing charge, and SUCCESS iff exactly one."""
    final = statuses("payments", payment_ids)
    for payment_id in payment_ids:
        charges = _standing_at_acquirer(acquirer, payment_id) + _standing_at_simulator(payment_id)
        assert charges <= 1, f"{payment_id} charged {charges} times ({final[payment_id]})"
        assert (final[payment_id] == "SUCCESS") == (charges == 1), (
            f"{payment_id} is {final[payment_id]} with {charges} standing charge(s)"
        )


def _nothing_in_flight(acquirer: AcquirerProcess, payment_ids: list[str]) -> None:
    """Wait until every request of these payments that reached the acquirer has ended
    there: a key is recorded `in_progress` on arrival and keeps it until the request acts
    (a slow@upi charge 3 s later, a held refund after its latency), so a late charge or
    refund has landed, or never will, once no key is in progress. Asked through the
    acquirer's admin API: an answer given after each of those requests had arrived."""

    def settled() -> bool:
        books = [acquirer.books_for(pid) for pid in payment_ids]
        return not any(
            row["status"] == "in_progress"
            for book in books
            for row in (*book["charges"], *book["refunds"])
        )

    wait_until(settled, timeout=60)


def test_a_late_charge_is_never_charged_again_at_the_other_connector(
    acquirer: AcquirerProcess, quick_inquiries: None, run_processor
) -> None:
    primary = register(acquirer, deadline_s=1.0)
    merchant = merchant_on(primary, SIMULATOR)
    payment_ids = accept_payments(merchant.merchant_id, 8, vpa="slow@upi")

    drain_until_final(run_processor, payment_ids, seconds=90)
    _nothing_in_flight(acquirer, payment_ids)  # every late request has ended at the acquirer
    _assert_at_most_one_charge(acquirer, payment_ids)


def test_a_late_charge_never_lands_on_a_failed_payment(
    acquirer: AcquirerProcess,
    quick_inquiries: None,
    monkeypatch: pytest.MonkeyPatch,
    run_processor,
) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    settings.reset_settings()
    merchant = merchant_on(register(acquirer, deadline_s=1.0))
    payment_ids = accept_payments(merchant.merchant_id, 6, vpa="slow@upi")

    drain_until_final(run_processor, payment_ids, seconds=90)
    _nothing_in_flight(acquirer, payment_ids)
    _assert_at_most_one_charge(acquirer, payment_ids)
    with db.connection() as conn:
        released = conn.execute(
            "SELECT count(*) AS n FROM payments WHERE id = ANY(%s) AND status = 'FAILED'",
            (payment_ids,),
        ).fetchone()["n"]
    for payment_id in payment_ids:
        if statuses("payments", [payment_id])[payment_id] == "FAILED":
            assert _standing_at_acquirer(acquirer, payment_id) == 0
    assert released + sum(
        s == "SUCCESS" for s in statuses("payments", payment_ids).values()
    ) == len(payment_ids)


def test_a_refund_whose_inquiry_finds_nothing_keeps_its_reservation_until_voided(
    acquirer: AcquirerProcess, quick_inquiries: None, monkeypatch: pytest.MonkeyPatch, run_processor
) -> None:
    """A refund answered 500 *before* the acquirer records it, on its last attempt,
    while its replay is still held up: its inquiry finds nothing. The reservation is
    released only once the refund is voided at the acquirer, and then no refund of it
    ever lands, so a second refund of the same money can never exceed the capture."""
    monkeypatch.setenv("MAX_ATTEMPTS", "1")
    settings.reset_settings()
    connector = register(acquirer, deadline_s=1.0)
    merchant = merchant_on(connector)
    payment_ids = accept_payments(merchant.merchant_id, 4, vpa="success@upi")
    drain_until_final(run_processor, payment_ids, seconds=60)
    assert set(statuses("payments", payment_ids).values()) == {"SUCCESS"}

    # Every refund call is held 5 s by the acquirer (far past the 1 s deadline) and then
    # acts: each attempt is unknown, and its first inquiries come while it still runs.
    acquirer.set_faults(latency={"median_ms": 5000, "p99_ms": 5100}, targets=["refund"])
    refund_ids = accept_refunds(merchant.merchant_id, payment_ids, amount=10_000)
    drain_until_final(run_processor, payment_ids, refund_ids, seconds=90)
    acquirer.clear_faults()
    _nothing_in_flight(acquirer, payment_ids)  # every held refund has ended at the acquirer
    _assert_refunds_agree(acquirer, payment_ids)
    # A second full refund is allowed only where the first did not land; the books
    # still agree after it, so nothing was refunded twice behind the gateway's back.
    with db.connection() as conn:
        open_amounts = conn.execute(
            "SELECT id, amount - amount_refunded - amount_refund_reserved AS left"
            " FROM payments WHERE id = ANY(%s)",
            (payment_ids,),
        ).fetchall()
    again = [r["id"] for r in open_amounts if r["left"] == 10_000]
    if again:
        second = accept_refunds(merchant.merchant_id, again, amount=10_000)
        drain_until_final(run_processor, again, second, seconds=60)
    _assert_refunds_agree(acquirer, payment_ids)


def _assert_refunds_agree(acquirer: AcquirerProcess, payment_ids: list[str]) -> None:
    """What the gateway holds as refunded is what the acquirer refunded, per payment."""
    with db.connection() as conn:
        ours = {
            r["id"]: r["amount_refunded"]
            for r in conn.execute(
                "SELECT id, amount_refunded FROM payments WHERE id = ANY(%s)", (payment_ids,)
            ).fetchall()
        }
    for payment_id in payment_ids:
        charges = [c for c in acquirer.charges_for(payment_id) if c["status"] == "succeeded"]
        assert len(charges) == 1
        assert charges[0]["amount_refunded"] == ours[payment_id], (
            f"{payment_id}: the acquirer refunded {charges[0]['amount_refunded']}, "
            f"the gateway holds {ours[payment_id]} as refunded"
        )
