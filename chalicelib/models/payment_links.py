"""Payment link and hosted checkout models (docs/api.md, "Payment links")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.clock import utcnow
from chalicelib.errors import InvalidRequestError
from chalicelib.ids import PAYMENT_LINK, id_pattern
from chalicelib.models.common import (
    CURRENCY_PATTERN,
    SUPPORTED_CURRENCIES,
    ListEnvelope,
    ListQuery,
    RequestModel,
    ResponseModel,
    Timestamp,
)
from chalicelib.models.payments import (
    NO_NUL,
    Amount,
    CaptureMethod,
    CardSummary,
    PaymentStatus,
)

ORDER_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"
#: http(s) only, no spaces or control characters.
RETURN_URL_PATTERN = r"^https?://[^\s\x00-\x1f\x7f]{1,2000}$"
LinkStatus = Literal["active", "paid", "expired", "deactivated"]
VPA_PATTERN = r"^[A-Za-z0-9._\-]+@[A-Za-z0-9.\-]+$"
#: a card token from the acquirer's card element (never a card number)
TOKEN_PATTERN = r"^tok_[A-Za-z0-9_\-]{4,120}$"  # noqa: S105  # nosec B105: a pattern


class CreatePaymentLinkRequest(RequestModel):
    """POST /api/v1/payment_links."""

    amount: Amount
    currency: Annotated[
        StrictStr,
        Field(
            description="ISO 4217 code of a supported currency, any case",
            json_schema_extra={"pattern": CURRENCY_PATTERN},
        ),
    ]
    description: Annotated[StrictStr | None, Field(max_length=255, pattern=NO_NUL)] = None
    order_id: Annotated[StrictStr | None, Field(pattern=ORDER_ID_PATTERN)] = None
    #: each payment through the link takes it: `manual` authorizes only (AUTHORIZED),
    #: and the merchant captures (POST .../capture) or voids (.../cancel) later
    capture_method: CaptureMethod = "automatic"
    expires_at: Annotated[
        datetime | None,
        Field(description="ISO 8601 with a UTC offset; in the future, at most a year away"),
    ] = None
    return_url: Annotated[StrictStr | None, Field(max_length=2000, pattern=RETURN_URL_PATTERN)] = (
        None
    )

    @field_validator("expires_at", mode="before")
    @classmethod
    def _expires_at_text(cls, value: object) -> object:
        if value is not None and not isinstance(value, str):
            raise PydanticCustomError("datetime_type", "expires_at must be an ISO 8601 string")
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        code = value.upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise PydanticCustomError("currency_invalid", "currency must be an ISO 4217 code")
        if code not in SUPPORTED_CURRENCIES:
            raise PydanticCustomError("currency_not_supported", f"Currency {code} is not supported")
        return code

    @model_validator(mode="after")
    def _expiry_in_future(self) -> CreatePaymentLinkRequest:
        if self.expires_at is None:
            return self
        if self.expires_at.tzinfo is None:
            raise InvalidRequestError(
                "expires_at needs a UTC offset (e.g. 2030-01-01T00:00:00Z)", param="expires_at"
            )
        delta = (self.expires_at - utcnow()).total_seconds()
        if delta <= 0:
            raise InvalidRequestError("expires_at must be in the future", param="expires_at")
        if delta > 366 * 86400:
            raise InvalidRequestError("expires_at may be at most a year away", param="expires_at")
        return self


class PaymentLink(ResponseModel):
    id: str
    object: Literal["payment_link"] = "payment_link"
    #: the page to send the customer to; while the link is `active` it carries the
    #: client secret in its fragment (`#<client_secret>`): send the whole URL
    url: str
    active: bool
    status: LinkStatus
    amount: int
    currency: str
    description: str | None
    order_id: str
    capture_method: CaptureMethod
    return_url: str | None
    expires_at: Timestamp | None
    #: the link's payment, once paid: SUCCESS, or AUTHORIZED (a manual link's)
    payment_id: str | None
    #: every payment attempted through the link
    payment_count: int
    #: the key that signs the return URL's `signature` (docs/api.md, "Return URL");
    #: null in a replayed creation (the idempotency record keeps no secret), and once
    #: the link's keyring version has been removed
    return_signing_secret: str | None
    created_at: Timestamp
    updated_at: Timestamp


class PaymentLinkCreated(PaymentLink):
    #: the checkout page's credential, also in `url`'s fragment (and in the `url` of
    #: every read of the link while it is active); null in a replayed creation
    client_secret: str | None


class PaymentLinkList(ListEnvelope):
    data: list[PaymentLink]


class ListPaymentLinksQuery(ListQuery):
    starting_after: Annotated[str | None, Field(pattern=id_pattern(PAYMENT_LINK))] = None


class ConfirmRequest(RequestModel):
    """POST /pay/{link_id}/confirm: exactly one of a card token or a VPA."""

    #: the OpenAPI document marks the body required although no one field is
    BODY_REQUIRED: ClassVar[bool] = True

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["token"],
                    "properties": {"token": {"type": "string"}, "vpa": {"type": "null"}},
                },
                {
                    "required": ["vpa"],
                    "properties": {"vpa": {"type": "string"}, "token": {"type": "null"}},
                },
            ]
        }
    )

    token: Annotated[StrictStr | None, Field(pattern=TOKEN_PATTERN)] = None
    vpa: Annotated[StrictStr | None, Field(min_length=3, max_length=255, pattern=VPA_PATTERN)] = (
        None
    )

    @model_validator(mode="after")
    def _one_method(self) -> ConfirmRequest:
        if (self.token is None) == (self.vpa is None):
            raise InvalidRequestError("Give exactly one of token and vpa", param="token")
        return self


class CheckoutPayment(ResponseModel):
    """A payment as the checkout page sees it: no merchant metadata."""

    id: str
    object: Literal["payment"] = "payment"
    status: PaymentStatus
    amount: int
    currency: str
    method: str
    card: CardSummary | None
    vpa: str | None
    failure_code: str | None
    failure_message: str | None


class CheckoutStatus(ResponseModel):
    """GET /pay/{link_id}/status."""

    object: Literal["checkout_status"] = "checkout_status"
    link_status: LinkStatus
    payment: CheckoutPayment | None
    #: set once the payment succeeded (or, a manual link's, was authorized) and the link
    #: has a return_url: where to go next
    redirect_url: str | None
