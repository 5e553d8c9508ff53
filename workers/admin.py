"""Operator commands.

  python -m workers.admin create-merchant --name NAME
  python -m workers.admin create-operator-key --name NAME
  python -m workers.admin queue-stats
  python -m workers.admin dlq-list [--count N]
  python -m workers.admin dlq-replay [--id DEAD_LETTER_ID ...]
Each prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from workers.stage import load_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gateway operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-merchant", help="create a merchant and its API key")
    create.add_argument("--name", required=True)
    create_op = sub.add_parser("create-operator-key", help="create an operator key")
    create_op.add_argument("--name", required=True)
    sub.add_parser("queue-stats", help="the payments queue at a glance")
    dlq_list = sub.add_parser("dlq-list", help="list dead-lettered entries")
    dlq_list.add_argument("--count", type=int, default=100)
    dlq_replay = sub.add_parser("dlq-replay", help="put dead letters back on their stream")
    dlq_replay.add_argument("--id", action="append", dest="ids")
    args = parser.parse_args(argv)

    load_stage()
    from chalicelib import db
    from chalicelib.queue import stream
    from chalicelib.services import batch, merchants, operator_keys

    if args.command in ("create-merchant", "create-operator-key"):
        name = args.name.strip()
        if not name or len(name) > 200:
            print(json.dumps({"error": "name must be 1 to 200 characters"}), file=sys.stderr)
            return 2
        with db.transaction() as conn:
            if args.command == "create-merchant":
                created = merchants.create_merchant(conn, name)
                print(json.dumps({"merchant_id": created.merchant_id, "api_key": created.api_key}))
            else:
                op = operator_keys.create_operator_key(conn, name)
                print(json.dumps({"operator_id": op.operator_id, "operator_key": op.operator_key}))
    elif args.command == "queue-stats":
        print(json.dumps(batch.queue_stats()))
    elif args.command == "dlq-list":
        print(json.dumps({"dead_letters": stream.list_dead_letters(args.count)}))
    elif args.command == "dlq-replay":
        print(json.dumps(batch.replay_dead_letters(args.ids)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
