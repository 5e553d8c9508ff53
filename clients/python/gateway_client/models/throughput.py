from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.throughput_point import ThroughputPoint


T = TypeVar("T", bound="Throughput")


@_attrs_define
class Throughput:
    """
    Attributes:
        object_ (Literal['throughput']):  Default: 'throughput'.
        interval_s (int):
        data (list[ThroughputPoint]):
    """

    interval_s: int
    data: list[ThroughputPoint]
    object_: Literal["throughput"] = "throughput"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        interval_s = self.interval_s

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "interval_s": interval_s,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.throughput_point import ThroughputPoint  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["throughput"], d.pop("object"))
        if object_ != "throughput":
            raise ValueError(f"object must match const 'throughput', got '{object_}'")

        interval_s = d.pop("interval_s")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = ThroughputPoint.from_dict(data_item_data)

            data.append(data_item)

        throughput = cls(
            object_=object_,
            interval_s=interval_s,
            data=data,
        )

        return throughput
