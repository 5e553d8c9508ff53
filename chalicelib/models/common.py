"""Shared pieces of the API models: timestamps, lists, errors, validation helpers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
)

from chalicelib.clock import isoformat
from chalicelib.errors import (
    CurrencyNotSupportedError,
    InvalidRequestError,
    ParameterMissingError,
    ParameterUnknownError,
)
from chalicelib.ids import ID_PATTERN

#: A timestamp rendered as ISO 8601 UTC with milliseconds and `Z` (an RFC 3339
#: `date-time`, as the document says, so a generated client reads it as a datetime).
Timestamp = Annotated[
    datetime,
    PlainSerializer(isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

SUPPORTED_CURRENCIES = frozenset(
    {"INR", "USD", "EUR", "GBP", "JPY", "SGD", "AED", "AUD", "CAD", "CHF"}
)
MAX_AMOUNT = 99_999_999_999


def any_case_pattern(words: list[str]) -> str:
    """A JSON Schema pattern matching exactly these words in any letter case."""
    spelled = ("".join(f"[{c.upper()}{c.lower()}]" for c in word) for word in words)
    return f"^({'|'.join(spelled)})$"


#: What the OpenAPI document says of `currency`: a supported code, any case (a pattern,
#: not an enum, so that the server's own check still answers `currency_not_supported`).
CURRENCY_PATTERN = any_case_pattern(sorted(SUPPORTED_CURRENCIES))


# defer_build: a model's validator is built when it is first used, not at import. Each
# Lambda then pays only for the models it uses (the batch handlers for none of the
# HTTP ones), and importing the app stays within the cold start budget.
class RequestModel(BaseModel):
    """A request body: unknown fields rejected, no coercion of types."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class ListQuery(RequestModel):
    """The query string every list takes: `limit` (1-100, default 20) and a cursor id.

    `starting_after` must be shaped like an id, so that no byte Postgres refuses
    (NUL) ever reaches the cursor lookup."""

    model_config = ConfigDict(extra="forbid", strict=False)
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    starting_after: Annotated[str | None, Field(pattern=ID_PATTERN)] = None


class ResponseModel(BaseModel):
    """An answer: rendered whole (`model_dump_json`), so the document marks every field
    required, defaults too (`object`), and a generated client never types one as unset."""

    model_config = ConfigDict(
        extra="forbid", defer_build=True, json_schema_serialization_defaults_required=True
    )


class ErrorDetail(ResponseModel):
    """The error body leaves out `param` and `payment_id` where they do not apply."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)
    type: str
    code: str
    message: str
    param: str | None = None
    payment_id: str | None = None


class ErrorResponse(ResponseModel):
    error: ErrorDetail


class ListEnvelope(ResponseModel):
    object: Literal["list"] = "list"
    has_more: bool


def _param(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


_MESSAGES = {
    "missing": "{param} is required",
    "extra_forbidden": "{param} is not a known parameter",
}


def raise_validation_error(exc: ValidationError) -> None:
    """Turn pydantic's first error into the contract's error (unknown, then missing, first)."""
    errors = exc.errors(include_url=False)
    rank = {"extra_forbidden": 0, "missing": 1}
    errors.sort(key=lambda e: rank.get(e["type"], 2))
    first = errors[0]
    param = _param(first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        raise ParameterUnknownError(f"Received unknown parameter: {param}", param=param)
    if kind == "missing":
        raise ParameterMissingError(f"Missing required parameter: {param}", param=param)
    if kind == "currency_not_supported":
        raise CurrencyNotSupportedError(first["msg"], param=param)
    message = first["msg"]
    if kind.startswith(("int_", "string_", "bool_", "dict_", "list_", "model_")) or kind in (
        "literal_error",
        "enum",
    ):
        message = f"Invalid {param}: {message[0].lower()}{message[1:]}"
    raise InvalidRequestError(message, param=param or None)
