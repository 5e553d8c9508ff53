"""Which kind of key may call which route: merchant keys and operator keys never cross.

- A merchant route takes a merchant key (`sk_test_`). A valid operator key there is
  403 `merchant_key_required`: an operator reads every merchant's queue, never acts
  as one merchant.
- An operator route takes an operator key (`ok_test_`). A valid merchant key there is
  403 `operator_key_required`.
- A key of either shape that does not exist is 401 `api_key_invalid`, as before.
"""

from __future__ import annotations

from chalicelib.errors import AuthenticationError, PermissionDeniedError
from chalicelib.services import merchants, operator_keys

_MISSING = "No API key provided. Send it as 'Authorization: Bearer <api key>'."


def _bearer(authorization: str | None) -> str:
    scheme, _, api_key = (authorization or "").strip().partition(" ")
    api_key = api_key.strip()
    if scheme.lower() != "bearer" or not api_key:
        raise AuthenticationError(_MISSING, code="api_key_missing")
    return api_key


def authenticate(authorization: str | None, *, operator: bool) -> merchants.Principal:
    """The caller of a merchant route (operator=False) or of an operator route."""
    api_key = _bearer(authorization)
    if operator:
        if not operator_keys.is_operator_key(api_key):
            merchants.authenticate(authorization)  # 401 unless it is a real merchant key
            raise PermissionDeniedError(
                "This route needs an operator key; a merchant key cannot call it.",
                code="operator_key_required",
            )
        operator_id, key_hash = operator_keys.require_operator(api_key)
        return merchants.Principal(operator_id, key_hash)
    if operator_keys.is_operator_key(api_key):
        operator_keys.require_operator(api_key)  # 401 unless it is a real operator key
        raise PermissionDeniedError(
            "This route needs a merchant key; an operator key cannot call it.",
            code="merchant_key_required",
        )
    return merchants.authenticate(authorization)
