"""No recoverable card data anywhere (PCI DSS 3.2/3.3; issue 11, item 1).

Card payments are written with idempotency keys (first try, replay, reuse with
another body), processed, and then every table of the gateway database (all
columns, the `processor_sim` schema included), every log line of the server and of
this process, and the whole Redis keyspace are searched for the card numbers, the
CVCs, and the SHA-256 / SHA-1 / MD5 of each and of the bodies that held them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import random
import re
from typing import Any

from psycopg import sql

from chalicelib import db
from tests.e2e.helpers import unique

PATH = "/api/v1/payments"


def luhn_number(prefix: str, length: int = 16) -> str:
    """A random Luhn-valid number: unique enough that finding it anywhere means a leak."""
    body = prefix + "".join(random.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = [int(c) for c in body + check]
        total = sum(
            d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2)
            for i, d in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def digests(value: bytes) -> set[str]:
    """The unkeyed hashes an attacker would try, hex and base64."""
    found = set()
    for name in ("sha256", "sha1", "md5"):
        raw = hashlib.new(name, value).digest()
        found |= {raw.hex(), base64.b64encode(raw).decode()}
    return found


def body_forms(body: dict[str, Any]) -> list[bytes]:
    """Serialisations of a body someone might have hashed (the old fingerprint included)."""
    forms = [json.dumps(body).encode(), json.dumps(body, separators=(",", ":")).encode()]
    for wrapped in (body, ["POST", PATH, body]):
        forms.append(json.dumps(wrapped, sort_keys=True, separators=(",", ":")).encode())
        forms.append(json.dumps(wrapped, sort_keys=True).encode())
    return forms


def table_texts(conn: Any) -> list[tuple[str, Any]]:
    """(table name, SQL expression of one row as text, bytea decoded) for every table."""
    tables = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_type = 'BASE TABLE' AND table_schema IN ('public', 'processor_sim')"
    ).fetchall()
    assert any(t["table_schema"] == "processor_sim" for t in tables)
    result = []
    for table in tables:
        columns = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s",
            (table["table_schema"], table["table_name"]),
        ).fetchall()
        parts = [
            sql.SQL("encode({}, 'escape')").format(sql.Identifier(c["column_name"]))
            if c["data_type"] == "bytea"
            else sql.SQL("{}::text").format(sql.Identifier(c["column_name"]))
            for c in columns
        ]
        text = sql.SQL("concat_ws(' | ', {})").format(sql.SQL(", ").join(parts))
        name = sql.Identifier(table["table_schema"], table["table_name"])
        result.append((f"{table['table_schema']}.{table['table_name']}", text, name))
    return result


def redis_dump() -> str:
    from chalicelib.adapters.redis_client import get_redis

    r = get_redis()
    out = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key)
        value: Any = None
        if kind == "string":
            value = r.get(key)
        elif kind == "hash":
            value = r.hgetall(key)
        elif kind == "list":
            value = r.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(r.smembers(key))
        elif kind == "zset":
            value = r.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = r.xrange(key)
            for group in r.xinfo_groups(key):
                value.append(group)
        out.append(f"{key} {value!r}")
    return "\n".join(out)


def test_no_card_number_cvc_or_unkeyed_hash_anywhere(
    api, live_server, run_processor, merchant, caplog
):
    caplog.set_level(logging.DEBUG)
    cards = [
        {"number": luhn_number("4"), "exp_month": 12, "exp_year": 2031, "cvc": str(cvc)}
        for cvc in random.sample(range(9100, 9999), 3)
    ]
    sent_bodies: list[dict[str, Any]] = []
    payment_ids: list[str] = []
    for card in cards:
        key = {"Idempotency-Key": unique("card-key")}
        body = {
            "order_id": unique(),
            "amount": 1_999,
            "currency": "USD",
            "method": "card",
            "card": card,
        }
        first = api.post(PATH, json=body, headers=key)
        assert first.status_code == 202, first.text
        payment_ids.append(first.json()["id"])
        replay = api.post(PATH, json=body, headers=key)  # a replay compares fingerprints
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.content == first.content
        other = {**body, "amount": 2_000}
        reused = api.post(PATH, json=other, headers=key)
        assert reused.json()["error"]["code"] == "idempotency_key_reused"
        sent_bodies += [body, other]
    run_processor()
    for payment_id in payment_ids:
        assert api.get(f"{PATH}/{payment_id}").json()["status"] == "SUCCESS"

    needles: dict[str, str] = {}
    for card in cards:
        needles[card["number"]] = "card number"
        for digest in digests(card["number"].encode()):
            needles[digest] = "hash of a card number"
        for digest in digests(card["cvc"].encode()):
            needles[digest] = "hash of a CVC"
    for body in sent_bodies:
        for form in body_forms(body):
            for digest in digests(form):
                needles[digest] = "hash of a request body holding card data"
    cvcs = [card["cvc"] for card in cards]
    # A 4-digit CVC could be part of an unrelated number elsewhere: searched standalone,
    # in rows and lines that belong to this test's merchant and payments.
    ours = [merchant.merchant_id, *payment_ids]
    cvc_pattern = "(^|[^0-9])(" + "|".join(cvcs) + ")([^0-9]|$)"

    leaks: list[str] = []
    with db.transaction() as conn:
        patterns = [f"%{n}%" for n in needles] + ['%"cvc"%']
        for table, text, name in table_texts(conn):
            rows = conn.execute(
                sql.SQL("SELECT {t} AS t FROM {n} WHERE {t} LIKE ANY(%s)").format(t=text, n=name),
                (patterns,),
            ).fetchall()
            rows += conn.execute(
                sql.SQL("SELECT {t} AS t FROM {n} WHERE {t} ~ %s AND {t} LIKE ANY(%s)").format(
                    t=text, n=name
                ),
                (cvc_pattern, [f"%{i}%" for i in ours]),
            ).fetchall()
            leaks += [f"{table}: {row['t'][:300]}" for row in rows]

    logs = live_server.log_text() + "\n" + caplog.text
    keyspace = redis_dump()
    for where, text in (("server log", logs), ("redis", keyspace)):
        for needle, what in needles.items():
            if needle in text:
                leaks.append(f"{where}: {what}")
        if '"cvc"' in text or "'cvc'" in text:
            leaks.append(f"{where}: a cvc field")
        for line in text.splitlines():
            if any(i in line for i in ours) and re.search(cvc_pattern, line):
                leaks.append(f"{where}: a CVC in {line[:200]}")
    assert not leaks, "\n".join(leaks)
