from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ThroughputPoint")


@_attrs_define
class ThroughputPoint:
    """
    Attributes:
        at (datetime.datetime): Start of the minute
        accepted (int):
        succeeded (int):
        failed (int):
    """

    at: datetime.datetime
    accepted: int
    succeeded: int
    failed: int

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        accepted = self.accepted

        succeeded = self.succeeded

        failed = self.failed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "at": at,
                "accepted": accepted,
                "succeeded": succeeded,
                "failed": failed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        accepted = d.pop("accepted")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        throughput_point = cls(
            at=at,
            accepted=accepted,
            succeeded=succeeded,
            failed=failed,
        )

        return throughput_point
