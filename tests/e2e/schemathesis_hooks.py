"""Schemathesis hooks: the named exceptions of docs/api.md, "Deliberate deviations".

Loaded by `test_schemathesis.py` through SCHEMATHESIS_HOOKS. Each exception drops one
kind of "schema-valid request rejected" (ST202) failure, and only when the answer is
the exact 400 that the deviation describes; every other failure is kept. The test
counts how often each exception fired, so an exception that no longer matches
anything is noticed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import schemathesis

REPORT = os.environ.get("GATEWAY_EXCEPTIONS_REPORT")


def _error(response: Any) -> dict[str, Any]:
    try:
        return response.json().get("error") or {}
    except (ValueError, AttributeError):
        return {}


def _body(case: Any) -> dict[str, Any]:
    return case.body if isinstance(case.body, dict) else {}


def integral_float_amount(case: Any, error: dict[str, Any]) -> bool:
    """`amount: 84.0` is an integer to JSON Schema; amounts must be JSON integers here."""
    amount = _body(case).get("amount")
    return (
        error.get("param") == "amount"
        and isinstance(amount, float)
        and amount.is_integer()
        and error.get("code") == "parameter_invalid"
    )


def unknown_cursor(case: Any, error: dict[str, Any]) -> bool:
    """A well-shaped `starting_after` that names no object of this merchant."""
    return error.get("param") == "starting_after" and error.get("message", "").startswith(
        "No such "
    )


def unresolvable_webhook_host(case: Any, error: dict[str, Any]) -> bool:
    """A webhook URL whose host does not resolve (or, in prod, resolves to a private
    address): no schema can say where a name resolves. The guard answers one message for
    every refused URL (so that a merchant cannot map internal names), this one."""
    from chalicelib.adapters.url_guard import REFUSED_MESSAGE

    return error.get("param") == "url" and error.get("message") == REFUSED_MESSAGE


def card_number_or_expiry(case: Any, error: dict[str, Any]) -> bool:
    """A card number failing the Luhn check, or an expiry in the past."""
    param = error.get("param")
    message = error.get("message", "")
    return (param == "card.number" and "Luhn" in message) or (
        param in ("card.exp_year", "card.exp_month") and "expired" in message
    )


def refund_exceeds_remaining(case: Any, error: dict[str, Any]) -> bool:
    """A refund amount over what is left of the payment: earlier refunds decide that."""
    return error.get("code") == "amount_too_large" and error.get("param") == "amount"


def idempotency_key_reused(case: Any, error: dict[str, Any]) -> bool:
    """The fuzzer draws keys from a small space and sends one with different requests:
    the contract's `idempotency_key_reused`, which depends on an earlier request."""
    return error.get("code") == "idempotency_key_reused"


def replayed_creation(case: Any, error: dict[str, Any]) -> bool:
    """A creation replayed under its Idempotency-Key answers the first answer, whose
    object may have been deleted since: "created resource not found" (ST302)."""
    message = error.get("message", "")
    return error.get("code") == "resource_missing" and any(i in message for i in _REPLAYED_IDS)


def link_expiry(case: Any, error: dict[str, Any]) -> bool:
    """A payment link's `expires_at` in the past, more than a year away, or without a
    UTC offset: "now" is not a schema property."""
    return error.get("param") == "expires_at" and error.get("code") == "parameter_invalid"


def unknown_card_token(case: Any, error: dict[str, Any]) -> bool:
    """A well-shaped card token the acquirer never issued (POST /pay/{link_id}/confirm)."""
    return error.get("code") == "token_invalid" and error.get("param") == "token"


EXCEPTIONS: dict[str, Callable[[Any, dict[str, Any]], bool]] = {
    f.__name__: f
    for f in (
        integral_float_amount,
        unknown_cursor,
        unresolvable_webhook_host,
        card_number_or_expiry,
        refund_exceeds_remaining,
        idempotency_key_reused,
        replayed_creation,
        link_expiry,
        unknown_card_token,
    )
}


#: Ids that a replayed creation answered (header `Idempotent-Replayed: true`).
_REPLAYED_IDS: set[str] = set()


@schemathesis.hook
def after_call(ctx: Any, case: Any, response: Any) -> None:
    """Remember the ids of replayed creations, for `replayed_creation`."""
    if response.headers.get("idempotent-replayed") == ["true"]:
        try:
            _REPLAYED_IDS.add(str(response.json().get("id")))
        except (ValueError, AttributeError):
            pass


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except a rejection (ST202 400, ST302 404) that one named
    exception explains."""
    if (getattr(failure, "code", None), response.status_code) not in {
        ("ST202", 400),
        ("ST302", 404),
    }:
        return True
    error = _error(response)
    for name, matches in EXCEPTIONS.items():
        if matches(case, error):
            if REPORT:
                with open(REPORT, "a") as out:
                    out.write(
                        json.dumps({"exception": name, "operation": failure.operation}) + "\n"
                    )
            return False
    return True
