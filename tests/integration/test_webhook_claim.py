"""The claim of due webhook deliveries stays linear in the number due, whatever plan the
planner picks (chalicelib/repository/webhooks.py, CLAIM_DUE_DELIVERIES).

The claim used to join the due rows to their per-endpoint ranking. When the table's
statistics had been taken while it was nearly empty, as autovacuum does between tests,
the planner joined them in a nested loop: every due row against every other, 125 ms a
claim at 3,000 due, and `make test`'s thousand-event test took 33-58 s instead of 10.
Here 3,000 are due, among whatever deliveries earlier tests left in the table.
Here hash and merge joins and index scans are switched off, so the planner has only
nested loops over whole tables, and the rows the plan touched are counted (EXPLAIN
ANALYZE), not timed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from chalicelib import db
from chalicelib.clock import utcnow
from chalicelib.models.webhooks import CreateWebhookEndpointRequest
from chalicelib.repository.webhooks import CLAIM_DUE_DELIVERIES
from chalicelib.services import events, merchants, webhooks

ENDPOINTS = 3
EVENTS = 1000
CAP = 4


class Payment(BaseModel):
    id: str
    object: str = "payment"


def rows_touched(plan: dict[str, Any]) -> int:
    """Rows each node produced, times the times it ran, over the whole plan."""
    own = int(plan.get("Actual Rows", 0)) * int(plan.get("Actual Loops", 1))
    return own + sum(rows_touched(child) for child in plan.get("Plans", []))


def test_a_claim_touches_rows_in_proportion_to_the_due_ones_even_in_nested_loops() -> None:
    with db.connection() as conn, conn.transaction(force_rollback=True):
        uow = db.UnitOfWork(conn)
        merchant_id = merchants.create_merchant(conn, "Claim plan merchant").merchant_id
        request = CreateWebhookEndpointRequest(url="http://127.0.0.1:9/hook")
        for _ in range(ENDPOINTS):
            webhooks.create_endpoint(uow, merchant_id, request)
        items = [(merchant_id, "payment.succeeded", Payment(id=f"pay_claim{i:06d}"))
                 for i in range(EVENTS)]  # fmt: skip
        events.record_payment_events(conn, items)
        due = ENDPOINTS * EVENTS
        # The planner with statistics that see no due rows: nested loops, no index.
        for method in ("hashjoin", "mergejoin", "indexscan", "bitmapscan"):
            conn.execute(f"SET LOCAL enable_{method} = off")
        now = utcnow() + timedelta(seconds=1)
        params = {"now": now, "max_attempts": 8, "lease_until": now + timedelta(seconds=70),
                  "limit": 32, "cap": CAP, "busy_ids": [], "busy_counts": []}  # fmt: skip
        (row,) = conn.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + CLAIM_DUE_DELIVERIES, params, prepare=False
        ).fetchall()
        plan = row["QUERY PLAN"][0]["Plan"]
        table = conn.execute("SELECT count(*) AS n FROM webhook_deliveries").fetchone()
        claimed = conn.execute(
            "SELECT count(*) AS n FROM webhook_deliveries d JOIN webhook_endpoints w"
            " ON w.id = d.endpoint_id WHERE w.merchant_id = %s AND d.attempts = 1",
            (merchant_id,),
        ).fetchone()
    assert claimed is not None and claimed["n"] == ENDPOINTS * CAP  # the cap per endpoint
    touched = rows_touched(plan)
    # Linear: each due row is read, ranked and filtered a few times, and the table is
    # scanned once per claimed row (no index): 30,588 rows for 3,000 due in a table of
    # 3,000, 93,853 in one of 6,000 (after the thousand-event test). The old join read
    # every due row once per due row: 18 million for 3,000 due. (With 6,000 due the
    # planner ordered that join otherwise, 80,304 rows: hence 3,000 here.)
    assert table is not None
    assert touched < 40 * due + 50 * table["n"], (touched, due, table["n"])
