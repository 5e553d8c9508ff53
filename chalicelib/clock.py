"""Time in one place: timezone-aware UTC and the contract's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds and `Z`, e.g. 2026-11-26T08:00:00.123Z."""
    if value is None:
        return None
    # datetime.isoformat is C and ~5x faster than strftime; events render 1,000 at a time.
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
