from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="Replayed")


@_attrs_define
class Replayed:
    """
    Attributes:
        object_ (Literal['dead_letter_replay']):  Default: 'dead_letter_replay'.
        replayed (int): Payments and refunds put back on their stream
        removed (int): Dead letters removed from the list
    """

    replayed: int
    removed: int
    object_: Literal["dead_letter_replay"] = "dead_letter_replay"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        replayed = self.replayed

        removed = self.removed

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "replayed": replayed,
                "removed": removed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = cast(Literal["dead_letter_replay"], d.pop("object"))
        if object_ != "dead_letter_replay":
            raise ValueError(f"object must match const 'dead_letter_replay', got '{object_}'")

        replayed = d.pop("replayed")

        removed = d.pop("removed")

        replayed = cls(
            object_=object_,
            replayed=replayed,
            removed=removed,
        )

        return replayed
