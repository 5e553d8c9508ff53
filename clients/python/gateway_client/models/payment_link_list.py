from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.payment_link import PaymentLink


T = TypeVar("T", bound="PaymentLinkList")


@_attrs_define
class PaymentLinkList:
    """
    Attributes:
        object_ (Literal['list']):  Default: 'list'.
        has_more (bool):
        data (list[PaymentLink]):
    """

    has_more: bool
    data: list[PaymentLink]
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
        from ..models.payment_link import PaymentLink  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["list"], d.pop("object"))
        if object_ != "list":
            raise ValueError(f"object must match const 'list', got '{object_}'")

        has_more = d.pop("has_more")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = PaymentLink.from_dict(data_item_data)

            data.append(data_item)

        payment_link_list = cls(
            object_=object_,
            has_more=has_more,
            data=data,
        )

        return payment_link_list
