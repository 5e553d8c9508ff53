"""The drain finishes each row when its own answer comes, not when its batch has answered.

Against a networked acquirer, one slow call must not hold back the rows claimed with
it: they are written `SUCCESS` and their stream entries acknowledged while the slow
call is still at the acquirer, whose entry stays held until its own answer is written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import db
from chalicelib import redis_keys as keys
from chalicelib.adapters.redis_client import get_redis
from chalicelib.models.payments import CreatePaymentRequest
from chalicelib.services import payments
from tests.integration.acquirer_drain import accept_payments, merchant_on, register, statuses
from tests.integration.acquirer_process import AcquirerProcess, started
from tests.support import wait_until


@pytest.fixture
def acquirer(tmp_path: Path) -> Iterator[AcquirerProcess]:
    yield from started(tmp_path)


def _stream_ids() -> set[str]:
    entries = get_redis().xrange(keys.PAYMENTS_STREAM)
    return {fields.get("id") for _, fields in entries}


def test_rows_finish_as_their_answers_come_and_a_slow_call_holds_only_its_own(
    acquirer: AcquirerProcess, run_processor
) -> None:
    merchant = merchant_on(register(acquirer, deadline_s=10))
    fast = accept_payments(merchant.merchant_id, 30)
    with db.unit_of_work() as uow:
        slow = payments.create_payment(
            uow,
            merchant.merchant_id,
            CreatePaymentRequest(
                order_id=f"slow_{fast[0]}",
                amount=500,
                currency="INR",
                method="upi",
                vpa="slow@upi",
            ),
        ).id
    summary: dict[str, Any] = {}
    run = threading.Thread(target=lambda: summary.update(run_processor(40)))
    run.start()
    try:
        # The acquirer answers `slow@upi` 3 s late; the 30 others are finished before.
        wait_until(
            lambda: set(statuses("payments", fast).values()) == {"SUCCESS"}, timeout=2.5, step=0.05
        )
        assert run.is_alive(), "the run had not returned: the slow call was still in flight"
        assert statuses("payments", [slow]) == {slow: "PROCESSING"}
        in_stream = _stream_ids()
        assert slow in in_stream, "the slow row's entry is held until its answer is written"
        assert not in_stream & set(fast), "the finished rows' entries are acknowledged"
    finally:
        run.join(30)
    assert statuses("payments", [slow]) == {slow: "SUCCESS"}
    assert summary["succeeded"] == 31
    assert slow not in _stream_ids()
    assert [c["status"] for c in acquirer.charges_for(slow)] == ["succeeded"]
