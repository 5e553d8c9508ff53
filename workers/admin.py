"""Operator commands.

  python -m workers.admin create-merchant --name NAME
  python -m workers.admin create-key --merchant MERCHANT_ID
  python -m workers.admin list-keys --merchant MERCHANT_ID
  python -m workers.admin revoke-key --key KEY_ID
  python -m workers.admin seal-webhook-secrets
  python -m workers.admin rehash-api-keys
  python -m workers.admin create-operator-key --name NAME
  python -m workers.admin list-operator-keys
  python -m workers.admin revoke-operator-key --operator OPERATOR_ID
  python -m workers.admin queue-stats
  python -m workers.admin dlq-list [--count N]
  python -m workers.admin dlq-replay [--id DEAD_LETTER_ID ...]
  python -m workers.admin set-connectors --merchant MERCHANT_ID --connectors PRIMARY[,SECONDARY]
  python -m workers.admin set-card-data --merchant MERCHANT_ID --card-data tokens_only|raw_allowed
  python -m workers.admin reconcile [--date YYYY-MM-DD] [--merchant MERCHANT_ID]
  python -m workers.admin local-credentials --file PATH
Each prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from infra import stack_env
from workers.stage import load_stage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Gateway operator commands")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-merchant", help="create a merchant and its API key")
    create.add_argument("--name", required=True)
    create_key = sub.add_parser("create-key", help="a new API key (at most two live)")
    create_key.add_argument("--merchant", required=True)
    list_keys = sub.add_parser("list-keys", help="a merchant's keys: prefix, created, last used")
    list_keys.add_argument("--merchant", required=True)
    revoke_key = sub.add_parser("revoke-key", help="revoke a key (refused everywhere within 1 s)")
    revoke_key.add_argument("--key", required=True, dest="key_id")
    sub.add_parser(
        "seal-webhook-secrets", help="encrypt secrets of endpoints made before 0008 (KMS)"
    )
    create_op = sub.add_parser("create-operator-key", help="create an operator key")
    create_op.add_argument("--name", required=True)
    sub.add_parser("list-operator-keys", help="operator keys: name, prefix, created, revoked")
    revoke_op = sub.add_parser(
        "revoke-operator-key", help="revoke an operator's key (refused everywhere within 1 s)"
    )
    revoke_op.add_argument("--operator", required=True, dest="operator_id")
    sub.add_parser(
        "rehash-api-keys", help="key hashes stored before keyed hashing become keyed (once)"
    )
    sub.add_parser("queue-stats", help="the payments queue at a glance")
    dlq_list = sub.add_parser("dlq-list", help="list dead-lettered entries")
    dlq_list.add_argument("--count", type=int, default=100)
    dlq_replay = sub.add_parser("dlq-replay", help="put dead letters back on their stream")
    dlq_replay.add_argument("--id", action="append", dest="ids")
    card_data = sub.add_parser("set-card-data", help="tokens_only: refuse raw card numbers")
    card_data.add_argument("--merchant", required=True)
    card_data.add_argument("--card-data", required=True, choices=["tokens_only", "raw_allowed"])
    route = sub.add_parser("set-connectors", help="a merchant's connectors, primary first")
    route.add_argument("--merchant", required=True)
    route.add_argument("--connectors", required=True, help="comma separated, primary first")
    reconcile = sub.add_parser(
        "reconcile", help="compare the acquirer's settlement of a day with our records"
    )
    reconcile.add_argument(
        "--date", type=_day, default=None, help="YYYY-MM-DD (UTC); default today"
    )
    reconcile.add_argument("--merchant", default=None, help="only this merchant's records")
    reconcile.add_argument("--connector", default="acquirer")
    local = sub.add_parser(
        "local-credentials", help="make run's test merchant and operator keys, kept and reused"
    )
    local.add_argument("--file", required=True, type=Path)
    args = parser.parse_args(argv)

    stack_env.load()  # the running stack's settings when the environment has none

    os.environ.setdefault("LOG_STREAM", "stderr")  # stdout carries only the JSON answer
    load_stage()
    from chalicelib import db
    from chalicelib.queue import operations
    from chalicelib.services import merchants, operator_keys

    if args.command in ("create-merchant", "create-operator-key"):
        name = args.name.strip()
        if not name or len(name) > 200:
            print(json.dumps({"error": "name must be 1 to 200 characters"}), file=sys.stderr)
            return 2
        with db.unit_of_work() as uow:
            if args.command == "create-merchant":
                created = merchants.create_merchant(uow.conn, name)
                print(json.dumps({"merchant_id": created.merchant_id, "api_key": created.api_key}))
            else:
                op = operator_keys.create_operator_key(uow.conn, name)
                print(json.dumps({"operator_id": op.operator_id, "operator_key": op.operator_key}))
    elif args.command in ("create-key", "list-keys", "revoke-key"):
        return _keys(args)
    elif args.command == "list-operator-keys":
        with db.unit_of_work(write=False) as uow:
            print(json.dumps({"operator_keys": operator_keys.list_operator_keys(uow.conn)}))
    elif args.command == "revoke-operator-key":
        try:
            with db.unit_of_work() as uow:
                revoked = operator_keys.revoke_operator_key(uow.conn, args.operator_id)
        except LookupError as exc:
            print(json.dumps({"error": str(exc).strip("'")}), file=sys.stderr)
            return 2
        print(json.dumps(revoked))
    elif args.command == "seal-webhook-secrets":
        from chalicelib.services import webhooks

        sealed = 0
        while True:  # one transaction per batch of 500
            with db.unit_of_work() as uow:
                batch = webhooks.seal_plaintext_secrets(uow, 500)
            sealed += batch
            if batch < 500:
                break
        print(json.dumps({"sealed": sealed}))
    elif args.command == "rehash-api-keys":
        with db.unit_of_work() as uow:
            print(json.dumps({"rehashed": merchants.rehash_unkeyed(uow.conn)}))
    elif args.command == "queue-stats":
        with db.unit_of_work(write=False) as uow:
            print(json.dumps(operations.queue_stats(uow.conn)))
    elif args.command == "dlq-list":
        print(json.dumps({"dead_letters": operations.list_dead_letters(args.count)}))
    elif args.command == "dlq-replay":
        with db.unit_of_work() as uow:
            replayed = operations.replay_dead_letters(uow, args.ids)
        print(json.dumps(replayed))
    elif args.command == "set-connectors":
        from chalicelib.connectors import routing
        from chalicelib.errors import GatewayError

        names = [n.strip() for n in args.connectors.split(",") if n.strip()]
        try:
            with db.unit_of_work() as uow:
                routing.set_merchant_connectors(uow.conn, args.merchant, names)
        except GatewayError as exc:
            print(json.dumps({"error": str(exc)}), file=sys.stderr)
            return 2
        print(json.dumps({"merchant_id": args.merchant, "connectors": names}))
    elif args.command == "set-card-data":
        from chalicelib.repository import payment_links as link_repo

        with db.unit_of_work() as uow:
            found = link_repo.set_card_data(uow.conn, args.merchant, args.card_data)
        if not found:
            print(json.dumps({"error": f"no such merchant: {args.merchant}"}), file=sys.stderr)
            return 2
        print(json.dumps({"merchant_id": args.merchant, "card_data": args.card_data}))
    elif args.command == "local-credentials":
        from workers import local_credentials

        print(json.dumps(local_credentials.ensure(args.file)))
    elif args.command == "reconcile":
        from chalicelib.handlers.reconcile_settlements import run_reconciliation

        day = args.date or datetime.now(UTC).date()
        print(json.dumps(run_reconciliation(day, args.connector, args.merchant)))
    return 0


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError("dates are YYYY-MM-DD") from None


def _keys(args: argparse.Namespace) -> int:
    from chalicelib import db
    from chalicelib.services import merchants

    try:
        with db.unit_of_work() as uow:
            if args.command == "create-key":
                created = merchants.create_key(uow.conn, args.merchant)
                result = {
                    "key_id": created.key_id,
                    "merchant_id": created.merchant_id,
                    "prefix": created.prefix,
                    "api_key": created.api_key,
                }
            elif args.command == "list-keys":
                result = {"keys": merchants.list_keys(uow.conn, args.merchant)}
            else:
                result = merchants.revoke_key(uow.conn, args.key_id)
    except (LookupError, merchants.TooManyKeysError) as exc:
        print(json.dumps({"error": str(exc).strip("'")}), file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
