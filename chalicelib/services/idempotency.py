"""Idempotency keys: the first answer to a key is replayed, never re-executed.

The record is written in the same transaction as the object the request created,
so neither exists without the other. A transaction-scoped advisory lock on the
key makes a concurrent duplicate answer 409 at once instead of waiting. The lock,
the check for a stored record and the removal of an expired one are one statement
(`claim_idempotency_key`, migration 0007) that raises when the request must not go
on, so that it can be pipelined with the request's own INSERT.

A request that fails with a 500 rolls back everything it did, record included:
nothing was created, so the same key may be retried and executes afresh. (Stripe
stores 500s because its side effects can be partial; ours cannot.)
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from chalicelib import keyring
from chalicelib.db import Connection
from chalicelib.errors import ConflictError, IdempotencyKeyReusedError, InvalidRequestError
from chalicelib.keyring import Keyring
from chalicelib.repository import idempotency as idempotency_repo

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
#: Also the pattern the OpenAPI document gives the header (chalicelib/api/openapi.py).
KEY_PATTERN = r"^[^\x00-\x1f\x7f]+$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class StoredResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _ttl_s() -> float:
    from chalicelib import settings  # lazy, as in db

    return settings.get_settings().idempotency_ttl_hours * 3600


def validate_key(raw: str | None) -> str | None:
    """The key from the header, or None if absent; 400 if empty, too long or with a control
    character (a NUL cannot be stored by Postgres; docs/api.md, Idempotency)."""
    if raw is None:
        return None
    if not raw or len(raw) > MAX_KEY_LENGTH:
        raise InvalidRequestError(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters", param=HEADER
        )
    if _CONTROL.search(raw):
        raise InvalidRequestError(f"{HEADER} must not contain control characters", param=HEADER)
    return raw


#: Prefix of the stored fingerprint: says how it was made (0008 marks older ones legacy).
#: Since the keyring, `hmac-sha256:v<n>:` names the key version (none: version 1).
FINGERPRINT_SCHEME = "hmac-sha256:"
#: A fingerprint made before the HMAC (0008_secrets_at_rest replaced the unkeyed hash).
LEGACY_FINGERPRINT = "legacy"
#: The version of a fingerprint stored without one: the only key there was.
UNVERSIONED = 1


@dataclass(frozen=True)
class Fingerprint:
    """A validated request, fingerprinted under the newest key version (`value`, what
    is stored), and under any other version on demand (`under`), to compare with a
    record made before a rotation."""

    method: str
    path: str
    data: Any

    @property
    def value(self) -> str:
        fingerprint = self.under(_keyring().newest)
        assert fingerprint is not None, "the keyring always holds its newest key"
        return fingerprint

    def under(self, version: int) -> str | None:
        """The fingerprint under key `version`, or None when the keyring has no such
        version any more."""
        ring = _keyring()
        key = ring.keys.get(version)
        if key is None:
            return None
        data = _without_card_data(self.data, key)
        canonical = json.dumps(
            [self.method, self.path, data], sort_keys=True, separators=(",", ":")
        )
        return ring.mac(version, canonical.encode())


def request_fingerprint(method: str, path: str, body: BaseModel | dict[str, Any]) -> Fingerprint:
    """HMAC, under the server's key, of the validated request (PCI DSS 3.2/3.3).

    The body is the validated model, so key order, spacing and accepted spellings
    (`usd` / `USD`) do not matter. The card number enters only as its own keyed hash
    and the CVC not at all: nothing stored lets anyone test guesses of either.
    """
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return Fingerprint(method, path, data)


def _without_card_data(data: Any, key: bytes) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("card"), dict):
        return data
    card = {k: v for k, v in data["card"].items() if k != "cvc"}
    if isinstance(card.get("number"), str):
        # Domain-separated from the body's HMAC: this value is never the fingerprint itself.
        pan = b"card.number\x00" + card["number"].encode()
        card["number"] = "hmac:" + hmac.digest(key, pan, "sha256").hex()
    return {**data, "card": card}


def _keyring() -> Keyring:
    from chalicelib import settings  # lazy, as in db

    return settings.idempotency_keyring()


def _matches(stored: str, fingerprint: Fingerprint) -> bool:
    """Whether a stored fingerprint is this request's, under the version that made it.
    One made before 0008, or under a version since removed from the keyring, cannot be
    compared: it is taken as the same request, for the rest of its 24 h."""
    if stored == LEGACY_FINGERPRINT:
        return True
    version = keyring.version_of(stored, UNVERSIONED)
    expected = fingerprint.under(version)
    if expected is None:
        log.warning("idempotency record under a removed key version", extra={"v": version})
        return True
    if version == UNVERSIONED and not stored.startswith(f"{FINGERPRINT_SCHEME}v"):
        expected = FINGERPRINT_SCHEME + expected.split(":", 2)[2]  # its unversioned form
    return hmac.compare_digest(stored, expected)


def claim(conn: Connection, merchant_id: str, key: str) -> None:
    """Claim the key inside the caller's transaction, without waiting for the answer.

    In a pipelined transaction the claim travels with the request's first statement;
    if it is refused, Postgres skips everything after it and the refusal is raised at
    the next fetch (or the COMMIT). `refusal(exc)` recognises it.
    """
    idempotency_repo.send_claim(conn, merchant_id, key, _ttl_s())


def refusal(exc: BaseException) -> str | None:
    """ "in_use" or "recorded" if `exc` (or what it was raised from) is a refused claim."""
    cause: BaseException | None = exc
    while cause is not None:
        state = getattr(cause, "sqlstate", None)
        if state == idempotency_repo.CLAIM_IN_USE:
            return "in_use"
        if state == idempotency_repo.CLAIM_RECORDED:
            return "recorded"
        cause = cause.__cause__
    return None


def in_use_error() -> ConflictError:
    return ConflictError(
        "Another request with this Idempotency-Key is still being processed."
        " Retry after it completes.",
        code="idempotency_key_in_use",
    )


def stored_answer(
    conn: Connection, merchant_id: str, key: str, fingerprint: Fingerprint
) -> StoredResponse:
    """The recorded first answer to replay (read after the refused claim's transaction
    ended); 400 when the key was used with a different request. A fingerprint made
    under an older key version is rehashed under the newest one (compare-and-set)."""
    record = idempotency_repo.find_by_merchant_id_key(conn, merchant_id, key, _ttl_s())
    if record is None:  # pruned or expired since the claim saw it: let the client retry
        raise in_use_error()
    stored_hash = record["request_hash"]
    # A record made before 0008 has no comparable fingerprint (its unkeyed hash was
    # erased): it is replayed, as the same request most likely is, for its last ≤ 24 h.
    if not _matches(stored_hash, fingerprint):
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was already used with a different request.",
            param=HEADER,
        )
    newest = fingerprint.value
    if stored_hash not in (LEGACY_FINGERPRINT, newest):
        idempotency_repo.set_request_hash(conn, merchant_id, key, stored_hash, newest)
    return StoredResponse(
        status=record["response_status"],
        body=bytes(record["response_body"]),
        headers=dict(record["response_headers"]),
    )


def record(
    conn: Connection,
    merchant_id: str,
    key: str,
    fingerprint: Fingerprint,
    response: StoredResponse,
) -> None:
    """Store the first answer, in the transaction that created the object."""
    idempotency_repo.insert_record(
        conn, merchant_id, key, fingerprint.value, response.status, response.headers, response.body
    )


def prune_expired(conn: Connection, limit: int = 10_000) -> int:
    """Remove records older than the time to live (at least 24 h)."""
    ttl_s = _ttl_s()
    return idempotency_repo.delete_older_than(conn, ttl_s, limit)
