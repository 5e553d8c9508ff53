from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="DeadLetter")


@_attrs_define
class DeadLetter:
    """
    Attributes:
        object_ (Literal['dead_letter']):  Default: 'dead_letter'.
        id (str): The dead letter's own id (a stream entry id)
        stream (str):
        object_id (str): The payment or refund it carried
        deliveries (int):
        error (str):
    """

    id: str
    stream: str
    object_id: str
    deliveries: int
    error: str
    object_: Literal["dead_letter"] = "dead_letter"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        id = self.id

        stream = self.stream

        object_id = self.object_id

        deliveries = self.deliveries

        error = self.error

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "id": id,
                "stream": stream,
                "object_id": object_id,
                "deliveries": deliveries,
                "error": error,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = cast(Literal["dead_letter"], d.pop("object"))
        if object_ != "dead_letter":
            raise ValueError(f"object must match const 'dead_letter', got '{object_}'")

        id = d.pop("id")

        stream = d.pop("stream")

        object_id = d.pop("object_id")

        deliveries = d.pop("deliveries")

        error = d.pop("error")

        dead_letter = cls(
            object_=object_,
            id=id,
            stream=stream,
            object_id=object_id,
            deliveries=deliveries,
            error=error,
        )

        return dead_letter
