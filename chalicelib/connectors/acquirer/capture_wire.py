"""The acquirer's wire format for captures and voids of authorizations (manual capture).

A capture (`POST /v1/captures`) answers like a charge, so `wire.outcome_of` maps it. A
void of an authorization (`POST /v1/authorizations/{key}/void` with
`authorization_only`):
  200 voided                      -> succeeded (released; nothing will be captured)
  409 charge_captured             -> declined (it was captured: nothing is reversed)
  200 declined                    -> declined (there was no authorization to release)
  connection refused              -> transient_error
  anything else                   -> unknown (ask again, then void again: idempotent)
A void's inquiry (`GET /v1/authorizations/{key}`): `capture_state` voided -> succeeded,
captured -> declined, still authorized or no record -> not_found.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ValidationError

from chalicelib.connectors.acquirer import wire
from chalicelib.connectors.base import AttemptResult, InquiryResult, OperationRequest


class CaptureWire(wire._Wire):
    charge_key: str
    amount: int
    currency: str

    @classmethod
    def of(cls, request: OperationRequest) -> CaptureWire:
        return cls(charge_key=request.charge_key, amount=request.amount, currency=request.currency)


class VoidAuthorizationWire(wire._Wire):
    payment_id: str
    authorization_only: Literal[True] = True


class AuthorizationAnswer(wire._Wire):
    status: str
    capture_state: str | None = None


def void_of(status: int, body: bytes, latency_ms: int) -> AttemptResult:
    """What a void of an authorization did."""
    if status == 200:
        try:
            answer = wire.VoidAnswer.model_validate_json(body)
        except ValidationError:
            return wire.unknown("unreadable void answer", latency_ms)
        if answer.result == "voided":
            return AttemptResult("succeeded", latency_ms=latency_ms)
        if answer.result == "declined":
            return AttemptResult(
                "declined", "authorization_not_found", "No authorization to void", latency_ms
            )
        return wire.unknown(f"the void answered {answer.result}", latency_ms)
    detail = wire._error(body)
    if status == 409 and detail is not None and detail.code == "charge_captured":
        return AttemptResult("declined", "already_captured", detail.message, latency_ms)
    return wire.unknown(f"void answered {status}", latency_ms)


def void_inquiry_of(status: int, body: bytes, latency_ms: int) -> InquiryResult:
    """Whether an authorization is voided, captured, or still standing (not_found)."""
    if status == 200:
        try:
            answer = AuthorizationAnswer.model_validate_json(body)
        except ValidationError:
            return InquiryResult("unknown", "acquirer_unknown", "unreadable", latency_ms)
        if answer.capture_state == "voided":
            return InquiryResult("succeeded", latency_ms=latency_ms)
        if answer.capture_state == "captured":
            return InquiryResult("declined", "already_captured", None, latency_ms)
        if answer.status == "in_progress":
            return InquiryResult("unknown", "acquirer_unknown", "still in progress", latency_ms)
        return InquiryResult("not_found", latency_ms=latency_ms)
    detail = wire._error(body)
    if status == 404 and detail is not None and detail.code == "not_found":
        return InquiryResult("not_found", latency_ms=latency_ms)
    return InquiryResult("unknown", "acquirer_unknown", f"inquiry answered {status}", latency_ms)
