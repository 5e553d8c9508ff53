"""The reconciliation run: per connector, fetch the settlement, compare, reverse the
orphan charges, and write the report to S3.

`reconcile_settlements(context)` is the scheduled handler's body (daily on AWS: it
reconciles the day before, which is closed, at every HTTP connector);
`run_reconciliation(day, connector)` is what `python -m workers.admin reconcile --date`
calls.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from typing import Any

from chalicelib import db
from chalicelib.adapters import s3_reports
from chalicelib.clock import isoformat, utcnow
from chalicelib.connectors import get_connector, runner
from chalicelib.services import orphan_charges, reconciliation

log = logging.getLogger(__name__)


def run_reconciliation(
    day: date, connector_name: str = "acquirer", merchant_id: str | None = None
) -> dict[str, Any]:
    """Reconcile `day` for one HTTP connector; returns the summary and where the report is."""
    from chalicelib.connectors.acquirer import AcquirerConnector  # lazy: aiohttp

    connector = get_connector(connector_name)
    if not isinstance(connector, AcquirerConnector):
        raise ValueError(f"connector {connector_name!r} has no settlement report")

    async def fetch() -> tuple[list[Any], list[Any]]:
        return await asyncio.gather(
            connector.fetch_settlement(day), connector.fetch_settlement(day - timedelta(days=1))
        )

    lines, earlier = runner.run(fetch(), timeout=2 * connector.report_deadline_s)
    # The database is read after the settlement: an item charged since then is not in
    # the file, so it cannot show as "charged but not SUCCESS" by being too new.
    with db.unit_of_work(write=False) as uow:
        sections = reconciliation.reconcile(
            uow.conn, day, lines, earlier, merchant_id, connector=connector_name
        )
    payments = sections["payments"]
    reversed_keys = _reverse_orphans(connector, payments.charged_not_success + payments.in_flight)
    generated = utcnow()
    counts = reconciliation.summary(sections)
    document = {
        "date": day.isoformat(),
        "connector": connector_name,
        "merchant_id": merchant_id,
        "generated_at": isoformat(generated),
        "settlement_items": len(lines),
        "summary": counts,
        "orphans_reversed": reversed_keys,
        **{name: section.as_dict() for name, section in sections.items()},
    }
    stamp = generated.strftime("%Y%m%dT%H%M%S%fZ")
    key = f"reconciliation/{day.isoformat()}/{connector_name}-{stamp}.json"
    location = s3_reports.put_json(key, document)
    log.info(
        "reconciliation",
        extra={"date": day.isoformat(), "connector": connector_name, **counts, **location},
    )
    return {
        "date": day.isoformat(),
        "connector": connector_name,
        "summary": counts,
        "orphans_reversed": reversed_keys,
        "report": location,
    }


def _reverse_orphans(connector: Any, found: list[dict[str, Any]]) -> list[str]:
    """Record the orphan charges (and the charges of payments still open) found today,
    then look at every unsettled one of this connector again, today's and earlier runs':
    reverse by a void by key those whose payment is final and does not stand on them.
    Each is recorded before its void is sent, so a void that failed, or a run that died
    after it, is voided again (idempotently) by the next run. The keys reversed."""
    with db.unit_of_work() as uow:
        orphan_charges.record_found(uow, connector.name, found)
        due = orphan_charges.to_reverse(uow, connector.name)
    done = []
    for orphan in due:
        answer = runner.run(
            connector.void_payment(orphan["idempotency_key"], orphan["id"]),
            timeout=connector.deadline_s + 5,
        )
        with db.unit_of_work() as uow:
            if orphan_charges.record_reversal(uow, connector.name, orphan, answer.status):
                done.append(orphan["idempotency_key"])
        log.warning(
            "orphan charge",
            extra={
                "connector": connector.name,
                "payment_id": orphan["id"],
                "payment_status": orphan["payment_status"],
                "void": answer.status,
            },
        )
    return done


def reconcile_settlements(context: Any) -> dict[str, Any]:
    """The scheduled handler: reconcile yesterday (UTC), a closed settlement day, at
    every HTTP connector of this deployment."""
    from chalicelib.connectors import routing
    from chalicelib.connectors.acquirer import AcquirerConnector  # lazy: aiohttp

    day = utcnow().date() - timedelta(days=1)
    runs = [
        run_reconciliation(day, name)
        for name in sorted(routing.configured())
        if isinstance(get_connector(name), AcquirerConnector)
    ]
    return {"date": day.isoformat(), "connectors": runs}
