from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.refund import Refund


T = TypeVar("T", bound="RefundList")


@_attrs_define
class RefundList:
    """
    Attributes:
        object_ (Literal['list']):  Default: 'list'.
        has_more (bool):
        data (list[Refund]):
    """

    has_more: bool
    data: list[Refund]
    object_: Literal["list"] = "list"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        has_more = self.has_more

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "has_more": has_more,
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.refund import Refund  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["list"], d.pop("object"))
        if object_ != "list":
            raise ValueError(f"object must match const 'list', got '{object_}'")

        has_more = d.pop("has_more")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = Refund.from_dict(data_item_data)

            data.append(data_item)

        refund_list = cls(
            object_=object_,
            has_more=has_more,
            data=data,
        )

        return refund_list
