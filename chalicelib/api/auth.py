"""Who is calling: the API key of `Authorization: Bearer <key>`, then its rate limit.

The key is looked up first (a key seen valid within the last second from the
process's cache, else the database); only a key that fails is counted against the
client's address (`rate_limiter.count_auth_failure`), and a burst of failures from one
address gets 429 instead of 401. A valid key is never refused because of failures,
whoever made them: behind a proxy or a NAT many clients share one address.

The client's address is the peer's (`requestContext.identity.sourceIp`, which API
Gateway sets to the client), or the one `X-Forwarded-For` names when the peer is a
proxy listed in `TRUSTED_PROXIES`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from chalicelib import db, settings
from chalicelib.adapters import rate_limiter
from chalicelib.errors import AuthenticationError, PermissionDeniedError
from chalicelib.services import merchants, operator_keys
from chalicelib.services.merchants import Principal, StaleHash

log = logging.getLogger(__name__)

MISSING = "No API key provided. Send it as 'Authorization: Bearer <api key>'."


def bearer_key(authorization: str | None) -> str:
    """The key of an `Authorization: Bearer <key>` header, or 401 `api_key_missing`."""
    scheme, _, api_key = (authorization or "").strip().partition(" ")
    api_key = api_key.strip()
    if scheme.lower() != "bearer" or not api_key:
        raise AuthenticationError(MISSING, code="api_key_missing")
    return api_key


def client_address(request: Any) -> str:
    """The caller's address: the peer's as API Gateway (and the local server) gives it,
    or, when that peer is a trusted proxy (`TRUSTED_PROXIES`), the right-most address of
    `X-Forwarded-For` that is not itself a trusted proxy. A header from anyone else is
    ignored: a client could write any address in it."""
    identity = (getattr(request, "context", None) or {}).get("identity") or {}
    peer = str(identity.get("sourceIp") or "unknown")
    cfg = settings.get_settings()
    if not cfg.trusted_proxies or not cfg.is_trusted_proxy(peer):
        return peer
    forwarded = (getattr(request, "headers", None) or {}).get("x-forwarded-for") or ""
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not cfg.is_trusted_proxy(hop):
            return hop if _is_address(hop) else peer
    return peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def authenticate(request: Any, conn: db.Connection, operator: bool = False) -> Principal:
    """The merchant behind the request's key (401 otherwise), within its rate limit (429).

    Merchant keys and operator keys never cross: a merchant route refuses a valid
    operator key with 403 `merchant_key_required`, an operator route a valid merchant
    key with 403 `operator_key_required`; a key that does not exist is 401 either way.
    """
    api_key = bearer_key(request.headers.get("authorization"))
    if operator or operator_keys.is_operator_key(api_key):
        return _authenticate_operator_route(request, conn, api_key, operator)
    try:
        principal, stale = merchants.find_key(conn, api_key)
    except AuthenticationError:
        rate_limiter.count_auth_failure(client_address(request))  # 429 past the burst
        raise
    if stale is not None:
        _rehash(merchants.rehash_key, stale)
    rate_limiter.check(principal.key_id)
    if merchants.last_used_due(principal.key_id):
        _record_last_used(principal.key_id)
    return principal


def _authenticate_operator_route(
    request: Any, conn: db.Connection, api_key: str, operator: bool
) -> Principal:
    if operator and not operator_keys.is_operator_key(api_key):
        authenticate(request, conn)  # 401 unless it is a live merchant key
        raise PermissionDeniedError(
            "This route needs an operator key; a merchant key cannot call it.",
            code="operator_key_required",
        )
    try:
        operator_id, key_hash, stale = operator_keys.require_operator(conn, api_key)
    except AuthenticationError:
        rate_limiter.count_auth_failure(client_address(request))  # 429 past the burst
        raise
    if stale is not None:
        _rehash(operator_keys.rehash_key, stale)
    if not operator:
        raise PermissionDeniedError(
            "This route needs a merchant key; an operator key cannot call it.",
            code="merchant_key_required",
        )
    rate_limiter.check(key_hash)  # a keyed hash: no key, nor an unkeyed hash of one
    return Principal(operator_id, key_hash)


def _rehash(store: Callable[[db.Connection, StaleHash], None], stale: StaleHash) -> None:
    """A key found under an older keyring version gets the newest version's hash, in a
    short transaction of its own (read-only routes stay read-only); bookkeeping only: a
    failure never fails the request, and the next use tries again."""
    try:
        with db.transaction() as conn:
            store(conn, stale)
    except Exception:
        log.warning("key hash not rehashed", exc_info=True)


def _record_last_used(key_id: str) -> None:
    """Its own short transaction, so that read-only routes stay read-only; bookkeeping
    only: a failure never fails the request."""
    try:
        with db.transaction() as conn:
            merchants.record_last_used(conn, key_id)
    except Exception:
        log.warning("last_used_at not written", exc_info=True)
