from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="QueueMetrics")


@_attrs_define
class QueueMetrics:
    """
    Attributes:
        object_ (Literal['queue_metrics']):  Default: 'queue_metrics'.
        stream (str):
        length (int): Entries on the payments stream (the queue depth)
        pending (int): Entries claimed by a handler and not yet acknowledged
        oldest_pending_age_s (float | None):
        lag_s (float): How long the oldest due PENDING payment has waited
        retry_scheduled (int): PENDING payments waiting for a retry
        dead_letters (int):
        unknown_outcomes (int): Attempts whose outcome is unknown, waiting for an inquiry or a void
        flagged_unknown_outcomes (int): Of those, the ones unanswered for INQUIRY_FLAG_AFTER_S: look at them
        orphan_charges_open (int): Charges reconciliation found standing with no SUCCESS payment at that connector, not
            yet reversed
        orphan_charges_reversed (int): Orphan charges reversed at their acquirer
        at (datetime.datetime):
    """

    stream: str
    length: int
    pending: int
    oldest_pending_age_s: float | None
    lag_s: float
    retry_scheduled: int
    dead_letters: int
    unknown_outcomes: int
    flagged_unknown_outcomes: int
    orphan_charges_open: int
    orphan_charges_reversed: int
    at: datetime.datetime
    object_: Literal["queue_metrics"] = "queue_metrics"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        stream = self.stream

        length = self.length

        pending = self.pending

        oldest_pending_age_s: float | None
        oldest_pending_age_s = self.oldest_pending_age_s

        lag_s = self.lag_s

        retry_scheduled = self.retry_scheduled

        dead_letters = self.dead_letters

        unknown_outcomes = self.unknown_outcomes

        flagged_unknown_outcomes = self.flagged_unknown_outcomes

        orphan_charges_open = self.orphan_charges_open

        orphan_charges_reversed = self.orphan_charges_reversed

        at = self.at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "stream": stream,
                "length": length,
                "pending": pending,
                "oldest_pending_age_s": oldest_pending_age_s,
                "lag_s": lag_s,
                "retry_scheduled": retry_scheduled,
                "dead_letters": dead_letters,
                "unknown_outcomes": unknown_outcomes,
                "flagged_unknown_outcomes": flagged_unknown_outcomes,
                "orphan_charges_open": orphan_charges_open,
                "orphan_charges_reversed": orphan_charges_reversed,
                "at": at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = cast(Literal["queue_metrics"], d.pop("object"))
        if object_ != "queue_metrics":
            raise ValueError(f"object must match const 'queue_metrics', got '{object_}'")

        stream = d.pop("stream")

        length = d.pop("length")

        pending = d.pop("pending")

        def _parse_oldest_pending_age_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        oldest_pending_age_s = _parse_oldest_pending_age_s(d.pop("oldest_pending_age_s"))

        lag_s = d.pop("lag_s")

        retry_scheduled = d.pop("retry_scheduled")

        dead_letters = d.pop("dead_letters")

        unknown_outcomes = d.pop("unknown_outcomes")

        flagged_unknown_outcomes = d.pop("flagged_unknown_outcomes")

        orphan_charges_open = d.pop("orphan_charges_open")

        orphan_charges_reversed = d.pop("orphan_charges_reversed")

        at = datetime.datetime.fromisoformat(d.pop("at"))

        queue_metrics = cls(
            object_=object_,
            stream=stream,
            length=length,
            pending=pending,
            oldest_pending_age_s=oldest_pending_age_s,
            lag_s=lag_s,
            retry_scheduled=retry_scheduled,
            dead_letters=dead_letters,
            unknown_outcomes=unknown_outcomes,
            flagged_unknown_outcomes=flagged_unknown_outcomes,
            orphan_charges_open=orphan_charges_open,
            orphan_charges_reversed=orphan_charges_reversed,
            at=at,
        )

        return queue_metrics
