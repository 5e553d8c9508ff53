"""Payment request and response models (docs/api.md, Payments)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from chalicelib.clock import utcnow
from chalicelib.errors import InvalidRequestError
from chalicelib.ids import PAYMENT, id_pattern
from chalicelib.models.common import (
    CURRENCY_PATTERN,
    MAX_AMOUNT,
    SUPPORTED_CURRENCIES,
    ListEnvelope,
    ListQuery,
    RequestModel,
    ResponseModel,
    Timestamp,
)

PaymentMethod = Literal["upi", "card", "netbanking", "wallet"]
PaymentStatus = Literal["PENDING", "PROCESSING", "AUTHORIZED", "SUCCESS", "FAILED", "CANCELLED"]
CaptureMethod = Literal["automatic", "manual"]
CancellationReason = Literal["requested_by_customer", "expired"]
METHOD_DETAIL_FIELDS: dict[str, str] = {
    "vpa": "upi",
    "card": "card",
    "bank": "netbanking",
    "wallet": "wallet",
}

#: Postgres text cannot hold NUL; free text is refused with a 400 rather than a 500.
NO_NUL = r"^[^\x00]*$"

Amount = Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT, description="Minor units")]


def luhn_valid(number: str) -> bool:
    """Whether a digit string passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    """The card brand from its number's leading digits."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")) or "644" <= number[:3] <= "649":
        return "discover"
    if number.startswith(("60", "65", "81", "82", "508", "353", "356")):
        return "rupay"
    if "3528" <= number[:4] <= "3589":
        return "jcb"
    return "unknown"


class CardDetails(RequestModel):
    number: Annotated[StrictStr, Field(pattern=r"^[0-9]{12,19}$")]
    exp_month: Annotated[StrictInt, Field(ge=1, le=12)]
    exp_year: Annotated[StrictInt, Field(ge=1000, le=9999)]
    cvc: Annotated[StrictStr, Field(pattern=r"^[0-9]{3,4}$")]

    @field_validator("number")
    @classmethod
    def _luhn(cls, value: str) -> str:
        if not luhn_valid(value):
            raise PydanticCustomError("card_number_invalid", "card number fails the Luhn check")
        return value

    @model_validator(mode="after")
    def _not_expired(self) -> CardDetails:
        now = utcnow()
        if self.exp_year < now.year:
            raise InvalidRequestError("The card has expired", param="card.exp_year")
        if self.exp_year == now.year and self.exp_month < now.month:
            raise InvalidRequestError("The card has expired", param="card.exp_month")
        return self

    def __repr__(self) -> str:  # never let a card number reach a log through repr
        return f"CardDetails(last4={self.number[-4:]!r})"

    __str__ = __repr__


def _details_only_for_their_method() -> dict[str, Any]:
    """JSON Schema for `_details_match_method`: with method M, other methods' details are null."""
    rules = []
    for method in sorted(set(METHOD_DETAIL_FIELDS.values())):
        others = {name: {"type": "null"} for name, m in METHOD_DETAIL_FIELDS.items() if m != method}
        rules.append(
            {"if": {"properties": {"method": {"const": method}}}, "then": {"properties": others}}
        )
    return {"allOf": rules}


class CreatePaymentRequest(RequestModel):
    """POST /api/v1/payments."""

    model_config = ConfigDict(json_schema_extra=_details_only_for_their_method())

    order_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")]
    amount: Amount
    currency: Annotated[
        StrictStr,
        Field(
            description="ISO 4217 code of a supported currency, any case",
            json_schema_extra={"pattern": CURRENCY_PATTERN},
        ),
    ]
    method: PaymentMethod
    #: `manual`: authorize only; capture later (POST .../capture) or void (.../cancel)
    capture_method: CaptureMethod = "automatic"
    vpa: Annotated[
        StrictStr | None,
        Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9._\-]+@[A-Za-z0-9.\-]+$"),
    ] = None
    card: CardDetails | None = None
    bank: Annotated[StrictStr | None, Field(pattern=r"^[A-Z0-9_]{2,20}$")] = None
    wallet: Annotated[StrictStr | None, Field(pattern=r"^[a-z0-9_]{2,20}$")] = None
    description: Annotated[StrictStr | None, Field(max_length=255, pattern=NO_NUL)] = None
    metadata: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        json_schema_extra={
            "maxProperties": 20,
            "propertyNames": {"minLength": 1, "maxLength": 40, "pattern": NO_NUL},
            "additionalProperties": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
        },
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise PydanticCustomError("currency_invalid", "currency must be an ISO 4217 code")
        if code not in SUPPORTED_CURRENCIES:
            raise PydanticCustomError("currency_not_supported", f"Currency {code} is not supported")
        return code

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 20:
            raise InvalidRequestError("metadata may have at most 20 keys", param="metadata")
        for key, item in value.items():
            if "\x00" in key or "\x00" in item:
                raise InvalidRequestError(
                    "metadata may not contain NUL characters", param=f"metadata.{key}"
                )
            if not key or len(key) > 40:
                raise InvalidRequestError(
                    "metadata keys must be 1 to 40 characters", param=f"metadata.{key}"
                )
            if len(item) > 500:
                raise InvalidRequestError(
                    "metadata values must be at most 500 characters", param=f"metadata.{key}"
                )
        return value

    @model_validator(mode="after")
    def _details_match_method(self) -> CreatePaymentRequest:
        for name, method in METHOD_DETAIL_FIELDS.items():
            if getattr(self, name) is not None and method != self.method:
                raise InvalidRequestError(
                    f"{name} cannot be given for method {self.method}", param=name
                )
        return self


class CardSummary(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    brand: str
    last4: str
    exp_month: int
    exp_year: int


class Payment(ResponseModel):
    id: str
    object: Literal["payment"] = "payment"
    order_id: str
    amount: int
    currency: str
    method: PaymentMethod
    status: PaymentStatus
    vpa: str | None
    card: CardSummary | None
    bank: str | None
    wallet: str | None
    description: str | None
    metadata: dict[str, str]
    amount_refunded: int
    capture_method: CaptureMethod
    #: what a capture may still take: the amount while AUTHORIZED, else 0
    amount_capturable: int
    #: what was captured: the whole amount of a succeeded automatic payment, a manual
    #: payment's capture (0 until then)
    amount_captured: int
    #: when an AUTHORIZED payment's authorization expires (then it is voided)
    capture_before: Timestamp | None
    cancellation_reason: CancellationReason | None
    attempts: int
    next_attempt_at: Timestamp | None
    failure_code: str | None
    failure_message: str | None
    #: the acquirer connector of the current (or last) attempt; null before the first
    connector: str | None
    #: set while the last attempt's outcome is unknown (a timeout, a reset, a 5xx): the
    #: payment stays PROCESSING until an inquiry at that connector settles it
    outcome_unknown_since: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
    #: the payment link it was made through (docs/api.md, "Payment links"), else null
    payment_link_id: str | None = None


class PaymentCreated(Payment):
    message: Literal["Payment initiated successfully"] = "Payment initiated successfully"


class PaymentList(ListEnvelope):
    data: list[Payment]


class PaymentHistoryEntry(ResponseModel):
    at: Timestamp
    from_status: PaymentStatus | None
    to_status: PaymentStatus
    attempt: int | None
    #: `orphan_reversed`: reconciliation found a charge at `connector` that this
    #: payment does not stand on (a late charge, or one at a second connector) and
    #: reversed it there
    outcome: (
        Literal[
            "succeeded",
            "declined",
            "transient_error",
            "unknown",
            "resolved_by_inquiry",
            "orphan_reversed",
            "captured",
            "voided",
            "expired",
        ]
        | None
    )
    failure_code: str | None
    latency_ms: int | None
    #: the connector the attempt went to
    connector: str | None
    #: for `resolved_by_inquiry`: what the acquirer said of the unknown attempt
    resolution: Literal["succeeded", "declined", "not_charged"] | None


class PaymentHistory(ResponseModel):
    object: Literal["list"] = "list"
    data: list[PaymentHistoryEntry]
    has_more: Literal[False] = False


class ListPaymentsQuery(ListQuery):
    """Query string of GET /api/v1/payments."""

    starting_after: Annotated[str | None, Field(pattern=id_pattern(PAYMENT))] = None

    status: PaymentStatus | None = None
    order_id: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")] = None
    #: the payments made through one payment link (docs/api.md, "Payment links")
    payment_link_id: Annotated[str | None, Field(pattern=r"^plink_[0-9A-Za-z]{1,60}$")] = None


class CapturePaymentRequest(RequestModel):
    """POST /api/v1/payments/{id}/capture: all of the authorization, or part of it."""

    amount: Amount | None = None


class EmptyRequest(RequestModel):
    """A POST that takes no fields (cancel, redeliver)."""
