from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Redelivered")


@_attrs_define
class Redelivered:
    """
    Attributes:
        redelivered (int):
    """

    redelivered: int

    def to_dict(self) -> dict[str, Any]:
        redelivered = self.redelivered

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "redelivered": redelivered,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        redelivered = d.pop("redelivered")

        redelivered = cls(
            redelivered=redelivered,
        )

        return redelivered
