"""Prefixed, opaque, time-ordered object ids (`pay_`, `re_`, `evt_`, `we_`, `mch_`, `plink_`)."""

from __future__ import annotations

import re
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

PAYMENT = "pay"
REFUND = "re"
EVENT = "evt"
WEBHOOK_ENDPOINT = "we"
MERCHANT = "mch"
INQUIRY = "inq"
#: a capture or void of a manual-capture payment's authorization
PAYMENT_OPERATION = "pop"
API_KEY = "key"
OPERATOR = "op"
PAYMENT_LINK = "plink"


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


# Random bytes map to the alphabet through a 256-entry table (byte % 62): the tiny bias
# does not matter for ids, which need uniqueness, not secrecy, and it is ~5x faster
# than base-62 arithmetic on a large integer (events are created 1,000 at a time).
_BYTE_TO_CHAR = bytes.maketrans(
    bytes(range(256)), bytes(ord(_ALPHABET[b % 62]) for b in range(256))
)


def new_id(prefix: str) -> str:
    """A new id: the prefix, 8 chars of milliseconds since the epoch, 16 random chars."""
    return new_ids(prefix, 1)[0]


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` new ids at once (one clock read, one call for the random bytes)."""
    head = f"{prefix}_{_base62(time.time_ns() // 1_000_000, 8)}"
    random_chars = secrets.token_bytes(16 * count).translate(_BYTE_TO_CHAR).decode()
    return [head + random_chars[i : i + 16] for i in range(0, 16 * count, 16)]


ID_PATTERN = r"^[a-z]{2,5}_[0-9A-Za-z]{1,60}$"
_ID = re.compile(ID_PATTERN)


def id_pattern(prefix: str) -> str:
    """The pattern of one type's ids, exactly what `has_prefix` accepts (for the OpenAPI)."""
    return rf"^{prefix}_[0-9A-Za-z]{{1,60}}$"


def has_prefix(value: str, prefix: str) -> bool:
    """Whether `value` is shaped like an id of that type (checked before any query)."""
    return value.startswith(prefix + "_") and _ID.fullmatch(value) is not None
