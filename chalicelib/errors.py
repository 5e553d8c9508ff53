"""The one error hierarchy of the gateway and the one mapping to docs/api.md's body.

Every error a client can see is a `GatewayError` subclass carrying its HTTP
status, `error.type` and `error.code`. `error_body` renders the contract's
JSON; anything that is not a `GatewayError` becomes a bare 500.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Base of every error the API answers."""

    status = 500
    type = "api_error"
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        """The contract's error body for this error."""
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


class InvalidRequestError(GatewayError):
    """400: the request is malformed or a parameter is invalid."""

    status = 400
    type = "invalid_request_error"
    code = "parameter_invalid"


class InvalidJsonError(InvalidRequestError):
    code = "invalid_json"


class ParameterMissingError(InvalidRequestError):
    code = "parameter_missing"


class ParameterUnknownError(InvalidRequestError):
    code = "parameter_unknown"


class CurrencyNotSupportedError(InvalidRequestError):
    code = "currency_not_supported"


class AmountTooLargeError(InvalidRequestError):
    code = "amount_too_large"


class IdempotencyKeyReusedError(GatewayError):
    status = 400
    type = "idempotency_error"
    code = "idempotency_key_reused"


class AuthenticationError(GatewayError):
    status = 401
    type = "authentication_error"
    code = "api_key_invalid"


class PermissionDeniedError(GatewayError):
    """403: a valid key of the wrong kind (a merchant key on an operator route, or back)."""

    status = 403
    type = "permission_error"
    code = "operator_key_required"


class ResourceMissingError(GatewayError):
    status = 404
    type = "invalid_request_error"
    code = "resource_missing"


class MethodNotAllowedError(GatewayError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class ConflictError(GatewayError):
    """409: the request conflicts with the object's current state."""

    status = 409
    type = "invalid_request_error"
    code = "conflict"


class RequestTimeoutError(GatewayError):
    """408: the request head or body did not arrive in time (local server)."""

    status = 408
    type = "invalid_request_error"
    code = "request_timeout"


class LengthRequiredError(GatewayError):
    """411: a body without Content-Length (chunked) is refused by the local server."""

    status = 411
    type = "invalid_request_error"
    code = "length_required"


class UriTooLongError(GatewayError):
    status = 414
    type = "invalid_request_error"
    code = "uri_too_long"


class HeaderFieldsTooLargeError(GatewayError):
    """431: too many header fields, or too many bytes of them."""

    status = 431
    type = "invalid_request_error"
    code = "header_fields_too_large"


class HttpVersionNotSupportedError(GatewayError):
    status = 505
    type = "invalid_request_error"
    code = "http_version_not_supported"


class BodyTooLargeError(GatewayError):
    status = 413
    type = "invalid_request_error"
    code = "body_too_large"


class UnsupportedMediaTypeError(GatewayError):
    status = 415
    type = "invalid_request_error"
    code = "unsupported_media_type"


class RateLimitedError(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limited"


class ServiceUnavailableError(GatewayError):
    status = 503
    type = "api_error"
    code = "service_unavailable"


class InternalError(GatewayError):
    status = 500
    type = "api_error"
    code = "internal_error"


def error_body(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, body and headers for any exception; unknown ones are a bare 500."""
    if isinstance(exc, GatewayError):
        return exc.status, exc.body(), exc.headers
    generic = InternalError("An internal error occurred. The request can be retried safely.")
    return generic.status, generic.body(), {}
