"""The acquirer service: an aiohttp app that charges, refunds, answers inquiries and
settles, with fault injection. A stand-in for a real acquirer, as moto is for AWS.

    POST /v1/tokens                        card details -> token (no CVC kept)
    GET  /v1/tokens/{token}                brand, last four digits, expiry of a token
    GET  /v1/elements/card?origin=...      the card element (elements.py)
    POST /v1/authorizations                charge (Idempotency-Key)
    GET  /v1/authorizations/{key}          inquiry: the charge made under that key, or 404
    POST /v1/authorizations/{key}/void     void by key: never charges; a charge is reversed
    POST /v1/captures, GET /v1/captures/{key}  capture an authorization (captures.py)
    POST /v1/refunds                       refund part of a charge (Idempotency-Key)
    GET  /v1/refunds/{key}                 inquiry for a refund, or 404
    POST /v1/refunds/{key}/void            void a refund by key
    GET  /v1/settlements/{YYYY-MM-DD}.csv  the day's captures and refunds (reports.py)
    GET  /admin/books                      totals (or ?payment_id=... for its records)
    GET|PUT|DELETE /admin/faults           the global faults (faults.py)
    POST /admin/down {"seconds": N}        refuse connections for N seconds
    GET  /health

A replay (same key, same body) answers the recorded result with
`Idempotent-Replayed: true` and moves no money; the same key with another body is 422;
a replay while the first request still runs is 409 `request_in_progress`. Keys are
recorded on arrival (books.py), so an inquiry never answers 404 for a request in flight.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from infra.acquirer import captures, elements, reports
from infra.acquirer.books import Books
from infra.acquirer.fault_actions import STATE, with_faults
from infra.acquirer.faults import FaultConfig
from infra.acquirer.models import (
    CARD_SCENARIOS,
    DECLINE_MESSAGES,
    SLOW_SCENARIO_S,
    VPA_SCENARIOS,
    AuthorizeBody,
    RefundBody,
    TokenizeBody,
    VoidBody,
    card_brand,
    error,
    idempotency_key,
    parse,
)

BOOKS = web.AppKey("books", Books)


def _record(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in row.keys() if k not in ("fingerprint", "scenario")}


def _answer(row: Any, replayed: bool, kind: str) -> web.Response:
    body = {"object": kind, **_record(row)}
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return web.json_response(body, headers=headers)


def _not_processed(message: str) -> web.Response:
    """An explicit "nothing done, retry": the only 5xx a client may treat as not charged."""
    return error(503, "processor_unavailable", message, processed=False)


async def _keyed_body[B: BaseModel](
    request: web.Request, model: type[B]
) -> tuple[str, B] | web.Response:
    """The call's Idempotency-Key and its parsed body, or the 400 that refuses it."""
    key = idempotency_key(request)
    if isinstance(key, web.Response):
        return key
    body = await parse(request, model)
    if isinstance(body, web.Response):
        return body
    return key, body


# ---------------------------------------------------------------------- tokens
async def tokenize(request: web.Request) -> web.Response:
    keyed = await _keyed_body(request, TokenizeBody)
    if isinstance(keyed, web.Response):
        return keyed
    key, body = keyed
    books = request.app[BOOKS]
    existing = books.token_for_key(key)
    scenario = CARD_SCENARIOS.get(body.number, "ok")
    row = existing or books.add_token(
        {
            # Test mode: the scenario rides in the token, as in the gateway's vault
            # tokens, so every test-mode acquirer (the simulator too) charges it alike.
            "token": f"tok_sim_{scenario.replace('_', '-')}_{secrets.token_hex(12)}",
            "idempotency_key": key,
            "brand": card_brand(body.number),
            "last4": body.number[-4:],
            "exp_month": body.exp_month,
            "exp_year": body.exp_year,
            "scenario": scenario,
        }
    )
    return _answer(row, existing is not None, "token")


async def describe_token(request: web.Request) -> web.Response:
    """A token's brand, last four digits and expiry (the card element's tokens)."""
    row = request.app[BOOKS].token(request.match_info["token"])
    if row is None:
        return error(404, "not_found", "No such card token")
    return _answer(row, False, "token")


# ---------------------------------------------------------------------- charges
GATEWAY_TEST_TOKEN = "tok_sim_"  # noqa: S105  # nosec B105: a token prefix, not a secret


def _scenario(books: Books, body: AuthorizeBody) -> str | web.Response:
    if body.method == "upi":
        return VPA_SCENARIOS.get((body.vpa or "").lower(), "ok")
    if body.method == "card":
        if (body.token or "").startswith(GATEWAY_TEST_TOKEN):
            # The gateway's test-mode vault token, standing for a network token that
            # every acquirer in test mode accepts (so a card payment can fail over):
            # `tok_sim_<scenario>_<random>`, the scenario with `-` for `_`.
            return body.token.split("_")[2].replace("-", "_")  # type: ignore[union-attr]
        token = books.token(body.token or "")
        if token is None:
            return error(400, "token_invalid", "No such card token", "token")
        return str(token["scenario"])
    return "ok"


def _replay(existing: Any, fingerprint: str, kind: str) -> web.Response:
    """The answer for a key already recorded.

    Still running: 409 `request_in_progress` (ask again later, or inquire). Voided or
    reversed: that record, whatever the body (the key never charges again). Otherwise
    the recorded answer, or 422 if the key came with another body.
    """
    if existing["status"] in ("voided", "reversed"):
        return _answer(existing, True, kind)
    if existing["fingerprint"] != fingerprint:
        return error(422, "idempotency_key_reused", "Key used with another request body")
    if existing["status"] == "in_progress":
        return error(409, "request_in_progress", "A request with this key is still running")
    return _answer(existing, True, kind)


async def authorize(request: web.Request) -> web.Response:
    keyed = await _keyed_body(request, AuthorizeBody)
    if isinstance(keyed, web.Response):
        return keyed
    key, body = keyed
    books = request.app[BOOKS]
    fingerprint = body.fingerprint()
    scenario = _scenario(books, body)
    if not isinstance(scenario, str):  # refused as it is: nothing recorded, nothing done
        existing = books.charge(key)
        return scenario if existing is None else _replay(existing, fingerprint, "charge")
    # The key is recorded before anything is done: from here an inquiry finds it.
    row, mine = books.begin_charge(
        {
            "idempotency_key": key,
            "id": f"ch_{secrets.token_hex(12)}",
            "fingerprint": fingerprint,
            "payment_id": body.payment_id,
            "amount": body.amount,
            "currency": body.currency,
            "capture": body.capture,
        }
    )
    if not mine:
        return _replay(row, fingerprint, "charge")
    if scenario == "down" or (scenario == "flaky" and books.first_transient_answer(key)):
        books.release_charge(key)
        return _not_processed("The processor is unavailable")
    if scenario == "slow":
        try:
            await asyncio.sleep(SLOW_SCENARIO_S)
        except BaseException:
            books.release_charge(key)
            raise
    declined = scenario in DECLINE_MESSAGES
    status, code = ("declined", scenario) if declined else ("succeeded", None)
    return await with_faults(
        request,
        "authorize",
        lambda: _answer(books.finish_charge(key, status, code), False, "charge"),
        lambda: books.release_charge(key),
    )


# ---------------------------------------------------------------------- refunds
async def refund(request: web.Request) -> web.Response:
    keyed = await _keyed_body(request, RefundBody)
    if isinstance(keyed, web.Response):
        return keyed
    key, body = keyed
    books = request.app[BOOKS]
    fingerprint = body.fingerprint()
    row, mine = books.begin_refund(
        {
            "idempotency_key": key,
            "id": f"rf_{secrets.token_hex(12)}",
            "fingerprint": fingerprint,
            "charge_key": body.charge_key,
            "refund_id": body.refund_id,
            "amount": body.amount,
            "currency": body.currency,
        }
    )
    if not mine:
        return _replay(row, fingerprint, "refund")

    def act() -> web.Response:
        charge = books.charge(body.charge_key)
        status, code = "succeeded", None
        if charge is None or charge["status"] != "succeeded":
            status, code = "declined", "charge_not_captured"
        elif charge["currency"] != body.currency:
            status, code = "declined", "currency_mismatch"
        return _answer(books.finish_refund(key, status, code), False, "refund")

    return await with_faults(request, "refund", act, lambda: books.release_refund(key))


# ---------------------------------------------------------------------- inquiries and voids
def _inquiry(find: Callable[[Books, str], Any], kind: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        books = request.app[BOOKS]

        def look() -> web.Response:
            # `in_progress` while the request under the key still runs: never "not found".
            row = find(books, key)
            if row is None:
                return error(404, "not_found", f"No {kind} was made under this key")
            return _answer(row, False, kind)

        return await with_faults(request, "inquiry", look)

    return handler


async def void_charge(request: web.Request) -> web.Response:
    """Void by key: nothing is charged under it from now on; a charge made is reversed."""
    key = request.match_info["key"]
    raw = await request.read()
    payment_id, authorization_only = "", False
    if raw:
        parsed = await parse(request, VoidBody)
        if isinstance(parsed, web.Response):
            return parsed
        payment_id = parsed.payment_id or ""
        authorization_only = parsed.authorization_only
    books = request.app[BOOKS]

    def act() -> web.Response:
        result, row = books.void_charge(key, payment_id, authorization_only)
        if result == "has_refunds":
            return error(409, "charge_has_refunds", "A refunded charge cannot be voided")
        if result == "captured":
            return error(409, "charge_captured", "A captured authorization cannot be voided")
        return web.json_response(
            {"object": "void", "idempotency_key": key, "result": result, "charge": _record(row)}
        )

    return await with_faults(request, "void", act)


async def void_refund(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    books = request.app[BOOKS]

    def act() -> web.Response:
        result, row = books.void_refund(key)
        return web.json_response(
            {"object": "void", "idempotency_key": key, "result": result, "refund": _record(row)}
        )

    return await with_faults(request, "void", act)


async def faults_view(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if request.method == "PUT":
        try:
            state["faults"] = FaultConfig.model_validate_json(await request.read())
        except ValidationError as exc:
            return error(400, "parameter_invalid", exc.errors()[0]["msg"])
    elif request.method == "DELETE":
        state["faults"] = FaultConfig()
    return web.json_response(state["faults"].model_dump())


async def down_view(request: web.Request) -> web.StreamResponse:
    try:
        seconds = float((await request.json())["seconds"])
        if not 0 < seconds <= 3600:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return error(400, "parameter_invalid", "seconds must be a number in (0, 3600]", "seconds")
    response = web.json_response({"down_for_s": seconds}, status=202)
    await response.prepare(request)
    await response.write_eof()
    await request.app[STATE]["go_down"](seconds)
    return response


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(books: Books, go_down: Callable[[float], Awaitable[None]]) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[BOOKS] = books
    app[STATE] = {"faults": FaultConfig(), "rng": random.Random(), "go_down": go_down}
    app.router.add_post("/v1/tokens", tokenize)
    elements.add_routes(app, describe_token)
    app.router.add_post("/v1/authorizations", authorize)
    app.router.add_get("/v1/authorizations/{key}", _inquiry(Books.charge, "charge"))
    app.router.add_post("/v1/authorizations/{key}/void", void_charge)
    captures.add_routes(app)
    app.router.add_post("/v1/refunds", refund)
    app.router.add_get("/v1/refunds/{key}", _inquiry(Books.refund, "refund"))
    app.router.add_post("/v1/refunds/{key}/void", void_refund)
    app.router.add_get(r"/v1/settlements/{day}.csv", reports.settlement_view)
    app.router.add_get("/admin/books", reports.books_view)
    for method in ("GET", "PUT", "DELETE"):
        app.router.add_route(method, "/admin/faults", faults_view)
    app.router.add_post("/admin/down", down_view)
    app.router.add_get("/health", health)
    return app
