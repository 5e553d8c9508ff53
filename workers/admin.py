"""Operator commands.

  python -m workers.admin create-merchant --name NAME
  python -m workers.admin queue-stats
  python -m workers.admin dlq-list [--count N]
  python -m workers.admin dlq-replay [--id DEAD_LETTER_ID ...]
  python -m workers.admin reconcile [--date YYYY-MM-DD] [--merchant MERCHANT_ID]
Each prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime

from workers.stage import load_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gateway operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-merchant", help="create a merchant and its API key")
    create.add_argument("--name", required=True)
    sub.add_parser("queue-stats", help="the payments queue at a glance")
    dlq_list = sub.add_parser("dlq-list", help="list dead-lettered entries")
    dlq_list.add_argument("--count", type=int, default=100)
    dlq_replay = sub.add_parser("dlq-replay", help="put dead letters back on their stream")
    dlq_replay.add_argument("--id", action="append", dest="ids")
    reconcile = sub.add_parser(
        "reconcile", help="compare the acquirer's settlement of a day with our records"
    )
    reconcile.add_argument(
        "--date", type=_day, default=None, help="YYYY-MM-DD (UTC); default today"
    )
    reconcile.add_argument("--merchant", default=None, help="only this merchant's records")
    reconcile.add_argument("--connector", default="acquirer")
    args = parser.parse_args(argv)

    os.environ.setdefault("LOG_STREAM", "stderr")  # stdout carries only the JSON answer
    load_stage()
    from chalicelib import db
    from chalicelib.queue import stream
    from chalicelib.services import batch, merchants

    if args.command == "create-merchant":
        name = args.name.strip()
        if not name or len(name) > 200:
            print(json.dumps({"error": "name must be 1 to 200 characters"}), file=sys.stderr)
            return 2
        with db.transaction() as conn:
            created = merchants.create_merchant(conn, name)
        print(json.dumps({"merchant_id": created.merchant_id, "api_key": created.api_key}))
    elif args.command == "queue-stats":
        print(json.dumps(batch.queue_stats()))
    elif args.command == "dlq-list":
        print(json.dumps({"dead_letters": stream.list_dead_letters(args.count)}))
    elif args.command == "dlq-replay":
        print(json.dumps(batch.replay_dead_letters(args.ids)))
    elif args.command == "reconcile":
        from chalicelib.services.reconciliation_job import run_reconciliation

        day = args.date or datetime.now(UTC).date()
        print(json.dumps(run_reconciliation(day, args.connector, args.merchant)))
    return 0


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("dates are YYYY-MM-DD") from None


if __name__ == "__main__":
    sys.exit(main())
