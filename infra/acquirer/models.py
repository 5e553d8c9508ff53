"""The acquirer's request bodies, its test-mode scenarios and its error bodies."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

# docs/api.md's test-mode table: the same cards and VPAs behave the same at the acquirer.
DECLINE_MESSAGES = {
    "payment_declined": "Payment declined by the payer's bank",
    "card_declined": "The card was declined",
    "insufficient_funds": "The card has insufficient funds",
    "expired_card": "The card has expired",
}
CARD_SCENARIOS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000341": "flaky",
    "4000000000000119": "down",
}
VPA_SCENARIOS = {
    "failure@upi": "payment_declined",
    "flaky@upi": "flaky",
    "down@upi": "down",
    "slow@upi": "slow",
}
#: The `slow` scenario charges like `ok`, after this long (one slow call among fast ones).
SLOW_SCENARIO_S = 3.0


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def fingerprint(self) -> str:
        """What a replay must repeat: the body, canonically serialised."""
        canonical = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


class TokenizeBody(_Body):
    number: str = Field(pattern=r"^\d{12,19}$")
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2100)
    cvc: str = Field(pattern=r"^\d{3,4}$")


class AuthorizeBody(_Body):
    payment_id: str = Field(min_length=1, max_length=200)
    amount: int = Field(ge=1, le=99_999_999_999)
    currency: Currency
    method: Literal["upi", "card", "netbanking", "wallet"]
    vpa: str | None = Field(default=None, max_length=255)
    token: str | None = Field(default=None, max_length=200)
    bank: str | None = Field(default=None, max_length=100)
    wallet: str | None = Field(default=None, max_length=100)
    #: false: authorize only; a capture (POST /v1/captures) or a void follows
    capture: bool = True


class CaptureBody(_Body):
    charge_key: str = Field(min_length=1, max_length=200)
    amount: int = Field(ge=1, le=99_999_999_999)
    currency: Currency


class RefundBody(_Body):
    charge_key: str = Field(min_length=1, max_length=200)
    refund_id: str = Field(min_length=1, max_length=200)
    amount: int = Field(ge=1, le=99_999_999_999)
    currency: Currency


class VoidBody(_Body):
    payment_id: str | None = Field(default=None, max_length=200)
    #: release an authorization only: a captured charge is refused (409), not reversed
    authorization_only: bool = False


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def error(status: int, code: str, message: str, param: str | None = None, **extra: Any):  # type: ignore[no-untyped-def]
    """The acquirer's error body (the gateway's contract format)."""
    kind = "invalid_request_error" if status < 500 else "acquirer_error"
    body: dict[str, Any] = {"type": kind, "code": code, "message": message, **extra}
    if param:
        body["param"] = param
    return web.json_response({"error": body}, status=status)


async def parse[M: BaseModel](request: web.Request, model: type[M]) -> M | web.Response:
    """The validated body, or a 400 naming the first bad field."""
    try:
        raw = await request.read()
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        code = "parameter_missing" if first["type"] == "missing" else "parameter_invalid"
        return error(400, code, first["msg"], param)


def idempotency_key(request: web.Request) -> str | web.Response:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key or len(key) > 255:
        return error(
            400, "idempotency_key_required", "Idempotency-Key (1-255 characters) is required"
        )
    return key
