"""The time left in a Lambda invocation, for handlers that must stop before it ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def remaining_ms(context: Any) -> float | None:
    """Milliseconds left in the invocation; None when called without a Lambda context."""
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return float(context.get_remaining_time_in_millis())


@dataclass
class RunClock:
    """Whether a handler may start more work: more than `margin_ms` must be left."""

    context: Any
    margin_ms: int

    def has_time(self) -> bool:
        left = remaining_ms(self.context)
        return left is None or left > self.margin_ms
