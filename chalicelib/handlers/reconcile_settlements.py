"""The reconciliation run: fetch the settlement, compare, write the report to S3.

`reconcile_settlements(context)` is the scheduled handler's body (daily on AWS: it
reconciles the day before, which is closed); `run_reconciliation(day)` is what
`python -m workers.admin reconcile --date` calls.
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
from chalicelib.services import reconciliation

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
        sections = reconciliation.reconcile(uow.conn, day, lines, earlier, merchant_id)
    generated = utcnow()
    counts = reconciliation.summary(sections)
    document = {
        "date": day.isoformat(),
        "connector": connector_name,
        "merchant_id": merchant_id,
        "generated_at": isoformat(generated),
        "settlement_items": len(lines),
        "summary": counts,
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
        "report": location,
    }


def reconcile_settlements(context: Any) -> dict[str, Any]:
    """The scheduled handler: reconcile yesterday (UTC), a closed settlement day."""
    return run_reconciliation(utcnow().date() - timedelta(days=1))
