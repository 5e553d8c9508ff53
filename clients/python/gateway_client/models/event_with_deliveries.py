from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_type import EventType

if TYPE_CHECKING:
    from ..models.delivery_attempt import DeliveryAttempt
    from ..models.event_with_deliveries_data import EventWithDeliveriesData


T = TypeVar("T", bound="EventWithDeliveries")


@_attrs_define
class EventWithDeliveries:
    """
    Attributes:
        id (str):
        object_ (Literal['event']):  Default: 'event'.
        type_ (EventType):
        data (EventWithDeliveriesData): The payment (payment.* events) or refund (refund.* events) as the API rendered
            it when the event happened: fields added since are absent
        created_at (datetime.datetime):
        deliveries (list[DeliveryAttempt]):
    """

    id: str
    type_: EventType
    data: EventWithDeliveriesData
    created_at: datetime.datetime
    deliveries: list[DeliveryAttempt]
    object_: Literal["event"] = "event"

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_ = self.object_

        type_ = self.type_.value

        data = self.data.to_dict()

        created_at = self.created_at.isoformat()

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "type": type_,
                "data": data,
                "created_at": created_at,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_attempt import DeliveryAttempt  # noqa: PLC0415
        from ..models.event_with_deliveries_data import EventWithDeliveriesData  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["event"], d.pop("object"))
        if object_ != "event":
            raise ValueError(f"object must match const 'event', got '{object_}'")

        type_ = EventType(d.pop("type"))

        data = EventWithDeliveriesData.from_dict(d.pop("data"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = DeliveryAttempt.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        event_with_deliveries = cls(
            id=id,
            object_=object_,
            type_=type_,
            data=data,
            created_at=created_at,
            deliveries=deliveries,
        )

        return event_with_deliveries
