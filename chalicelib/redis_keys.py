"""Every Redis key, stream and consumer-group name the gateway uses, in one place
(the queue's streams, the rate limiter's buckets, the circuit breakers' counters)."""

from __future__ import annotations

PREFIX = "gw"

#: Stream of payment ids waiting to be executed (fields: `id`).
PAYMENTS_STREAM = f"{PREFIX}:stream:payments"
#: Stream of refund ids waiting to be executed (fields: `id`).
REFUNDS_STREAM = f"{PREFIX}:stream:refunds"
#: Streams of inquiry ids (unknown outcomes to settle), one per object type.
PAYMENT_INQUIRIES_STREAM = f"{PREFIX}:stream:payment-inquiries"
REFUND_INQUIRIES_STREAM = f"{PREFIX}:stream:refund-inquiries"
#: captures and voids of manual-capture payments' authorizations
PAYMENT_OPERATIONS_STREAM = f"{PREFIX}:stream:payment-operations"
#: Consumer group that the batch processor reads every stream with.
PROCESSOR_GROUP = "processor"
#: Entries that failed with unexpected errors too often (fields: stream, id, error, ...).
DEAD_LETTER_STREAM = f"{PREFIX}:stream:dead-letters"


def entry_errors(stream: str) -> str:
    """Hash of entry id -> last unexpected error, for dead-letter records."""
    return f"{stream}:errors"


def rate_limit_bucket(api_key_id: str) -> str:
    """Token bucket of one API key, by its id (a hash: tokens, updated_at)."""
    return f"{PREFIX}:ratelimit:{api_key_id}"


def auth_failure_bucket(client_address: str) -> str:
    """Token bucket of failed authentications from one client address (tokens, at)."""
    return f"{PREFIX}:authfail:{client_address}"


def breaker_calls(connector: str, window: int) -> str:
    """Calls to a connector in one breaker window (a hash: ok, failed)."""
    return f"{PREFIX}:breaker:{connector}:calls:{window}"


def breaker_open(connector: str) -> str:
    """Present (with a TTL, the cooldown) while the connector's breaker is open."""
    return f"{PREFIX}:breaker:{connector}:open"
