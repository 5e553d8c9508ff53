from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.payment_history_entry import PaymentHistoryEntry


T = TypeVar("T", bound="PaymentHistory")


@_attrs_define
class PaymentHistory:
    """
    Attributes:
        object_ (Literal['list']):  Default: 'list'.
        data (list[PaymentHistoryEntry]):
        has_more (bool):  Default: False.
    """

    data: list[PaymentHistoryEntry]
    object_: Literal["list"] = "list"
    has_more: bool = False

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        has_more = self.has_more

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "data": data,
                "has_more": has_more,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.payment_history_entry import PaymentHistoryEntry  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["list"], d.pop("object"))
        if object_ != "list":
            raise ValueError(f"object must match const 'list', got '{object_}'")

        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = PaymentHistoryEntry.from_dict(data_item_data)

            data.append(data_item)

        has_more = d.pop("has_more")

        payment_history = cls(
            object_=object_,
            data=data,
            has_more=has_more,
        )

        return payment_history
