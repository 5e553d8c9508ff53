"""The acquirer's wire format, and the one place its answers become our outcomes.

Requests are built from the gateway's ChargeRequest/RefundRequest; answers are parsed
into these models. `outcome_of` and `inquiry_of` map an HTTP exchange (or the failure to
have one) to `succeeded | declined | transient_error | unknown`:

  200 + status succeeded / declined        -> succeeded / declined
  200 + any other status (voided, ...)     -> unknown (the inquiry settles it)
  503 + {"error": {"processed": false}}    -> transient_error (the acquirer says it did nothing)
  429                                      -> transient_error (refused before acting)
  4xx (not 408, 409, 425) with one of
  REFUSALS' codes                          -> declined (the request was refused as it is)
  408, 409 (request_in_progress), 425,
  any other 4xx, any other 5xx, a reset,
  a timeout, a broken or unreadable answer -> unknown (money may have moved)
  connection refused, nothing sent         -> transient_error

Inquiries (`inquiry_of`): 200 succeeded / declined -> the same; 200 voided / reversed ->
not_charged; 200 in_progress -> unknown; 404 not_found -> not_found (settles nothing
by itself); anything else -> unknown. Voids (`void_of`): voided / reversed ->
not_charged; declined -> declined; a refund's succeeded -> succeeded; anything else ->
unknown.
"""

from __future__ import annotations

from typing import Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.connectors.base import (
    AttemptResult,
    ChargeRequest,
    InquiryResult,
    RefundRequest,
)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AuthorizeWire(_Wire):
    payment_id: str
    amount: int
    currency: str
    method: str
    vpa: str | None = None
    token: str | None = None
    bank: str | None = None
    wallet: str | None = None
    capture: bool = True

    @classmethod
    def of(cls, request: ChargeRequest) -> AuthorizeWire:
        return cls(
            payment_id=request.payment_id,
            amount=request.amount,
            currency=request.currency,
            method=request.method,
            vpa=request.vpa,
            token=request.method_token,
            bank=request.bank,
            wallet=request.wallet,
            capture=request.capture,
        )


class RefundWire(_Wire):
    charge_key: str
    refund_id: str
    amount: int
    currency: str

    @classmethod
    def of(cls, request: RefundRequest) -> RefundWire:
        # The acquirer keys a charge by the idempotency key it was made under.
        return cls(
            charge_key=request.charge_key or request.payment_id,
            refund_id=request.refund_id,
            amount=request.amount,
            currency=request.currency,
        )


class VoidWire(_Wire):
    payment_id: str


class TokenizeWire(_Wire):
    number: str
    exp_month: int
    exp_year: int
    cvc: str


class TokenAnswer(_Wire):
    token: str
    brand: str
    last4: str


class TokenDetails(TokenAnswer):
    """GET /v1/tokens/{token}: what the card element's token stands for (no number)."""

    exp_month: int
    exp_year: int


class MoneyAnswer(_Wire):
    """A charge or a refund as the acquirer recorded it."""

    id: str
    idempotency_key: str
    amount: int
    currency: str
    status: Literal["in_progress", "succeeded", "declined", "voided", "reversed"]
    decline_code: str | None = None


class VoidAnswer(_Wire):
    """The answer to a void by key: what became of the key."""

    idempotency_key: str
    result: Literal["voided", "reversed", "declined", "succeeded"]
    charge: dict[str, object] | None = None
    refund: dict[str, object] | None = None


#: The documented codes of a 4xx that refuses a request as it is (nothing was done, and
#: the same request will be refused again): the only 4xx answers read as declines.
REFUSALS = frozenset(
    {
        "parameter_invalid",
        "parameter_missing",
        "idempotency_key_required",
        "token_invalid",
        "charge_not_captured",
        "currency_mismatch",
        "refund_exceeds_capture",
    }
)
#: Statuses that never mean "refused": the request may be running or may have run.
_NOT_REFUSALS = frozenset({408, 409, 425})


class ErrorDetail(_Wire):
    type: str | None = None
    code: str | None = None
    message: str | None = None
    processed: bool | None = None


class ErrorAnswer(_Wire):
    error: ErrorDetail


class SettlementLine(_Wire):
    """One line of the daily settlement CSV."""

    type: Literal["capture", "refund"]
    id: str
    idempotency_key: str
    payment_id: str
    refund_id: str | None = None
    amount: int
    currency: str
    created_at: str


def _error(body: bytes) -> ErrorDetail | None:
    try:
        return ErrorAnswer.model_validate_json(body).error
    except ValidationError:
        return None


def unknown(reason: str, latency_ms: int) -> AttemptResult:
    return AttemptResult("unknown", "acquirer_unknown", reason, latency_ms)


def not_sent(reason: str, latency_ms: int) -> AttemptResult:
    """Connection refused before anything was sent: certainly not acted on."""
    return AttemptResult("transient_error", "processor_unavailable", reason, latency_ms)


def outcome_of_failure(exc: BaseException, latency_ms: int) -> AttemptResult:
    """The outcome of a call that got no HTTP answer: only a refused connect is safe."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return not_sent(f"could not connect: {exc.os_error.strerror or exc}", latency_ms)
    if isinstance(exc, TimeoutError):
        return unknown("no answer within the deadline", latency_ms)
    return unknown(f"{type(exc).__name__} during the call", latency_ms)


def inquiry_of_failure(exc: BaseException, latency_ms: int) -> InquiryResult:
    """An inquiry that got no answer settles nothing."""
    return InquiryResult("unknown", "acquirer_unknown", type(exc).__name__, latency_ms)


def outcome_of(status: int, body: bytes, latency_ms: int, replayed: bool) -> AttemptResult:
    """The outcome of an authorize or refund call that got an HTTP answer."""
    if status == 200:
        try:
            answer = MoneyAnswer.model_validate_json(body)
        except ValidationError:
            return unknown("unreadable 200 answer", latency_ms)
        if answer.status == "succeeded":
            return AttemptResult("succeeded", latency_ms=latency_ms, replayed=replayed)
        if answer.status == "declined":
            return AttemptResult(
                "declined", answer.decline_code, "Declined by the acquirer", latency_ms, replayed
            )
        return unknown(f"the acquirer's record says {answer.status}", latency_ms)
    detail = _error(body)
    if status == 503 and detail is not None and detail.processed is False:
        return AttemptResult(
            "transient_error", detail.code or "processor_unavailable", detail.message, latency_ms
        )
    if status == 429:
        return AttemptResult("transient_error", "rate_limited", "Acquirer rate limit", latency_ms)
    refused = detail is not None and detail.code in REFUSALS
    if 400 <= status < 500 and status not in _NOT_REFUSALS and refused and detail is not None:
        return AttemptResult("declined", detail.code, detail.message, latency_ms)
    code = f" ({detail.code})" if detail is not None and detail.code else ""
    return unknown(f"acquirer answered {status}{code}", latency_ms)


def inquiry_of(status: int, body: bytes, latency_ms: int) -> InquiryResult:
    """The status an inquiry answer gives; anything unclear is `unknown`."""
    if status == 200:
        try:
            answer = MoneyAnswer.model_validate_json(body)
        except ValidationError:
            return InquiryResult("unknown", latency_ms=latency_ms)
        if answer.status == "succeeded":
            return InquiryResult("succeeded", latency_ms=latency_ms)
        if answer.status == "declined":
            return InquiryResult(
                "declined", answer.decline_code, "Declined by the acquirer", latency_ms
            )
        if answer.status in ("voided", "reversed"):
            return InquiryResult("not_charged", latency_ms=latency_ms)
        return InquiryResult("unknown", "acquirer_unknown", "still in progress", latency_ms)
    detail = _error(body)
    if status == 404 and detail is not None and detail.code == "not_found":
        return InquiryResult("not_found", latency_ms=latency_ms)
    return InquiryResult("unknown", "acquirer_unknown", f"inquiry answered {status}", latency_ms)


def void_of(status: int, body: bytes, latency_ms: int) -> InquiryResult:
    """What a void by key settles; anything unclear is `unknown` (void again later)."""
    if status == 200:
        try:
            answer = VoidAnswer.model_validate_json(body)
        except ValidationError:
            return InquiryResult("unknown", "acquirer_unknown", "unreadable void", latency_ms)
        if answer.result in ("voided", "reversed"):
            return InquiryResult("not_charged", latency_ms=latency_ms)
        if answer.result == "declined":
            code = (answer.charge or answer.refund or {}).get("decline_code")
            return InquiryResult(
                "declined", str(code or "payment_declined"), "Declined by the acquirer", latency_ms
            )
        return InquiryResult("succeeded", latency_ms=latency_ms)
    return InquiryResult("unknown", "acquirer_unknown", f"void answered {status}", latency_ms)
