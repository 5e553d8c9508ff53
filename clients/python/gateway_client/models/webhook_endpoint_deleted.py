from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_type import EventType
from ..models.webhook_endpoint_status import WebhookEndpointStatus

T = TypeVar("T", bound="WebhookEndpointDeleted")


@_attrs_define
class WebhookEndpointDeleted:
    """DELETE answers the object, now disabled, with `deleted: true` (as Stripe does).

    Attributes:
        id (str):
        object_ (Literal['webhook_endpoint']):  Default: 'webhook_endpoint'.
        url (str):
        events (list[EventType]):
        status (WebhookEndpointStatus):
        created_at (datetime.datetime):
        deleted (bool):  Default: True.
    """

    id: str
    url: str
    events: list[EventType]
    status: WebhookEndpointStatus
    created_at: datetime.datetime
    object_: Literal["webhook_endpoint"] = "webhook_endpoint"
    deleted: bool = True

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_ = self.object_

        url = self.url

        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        status = self.status.value

        created_at = self.created_at.isoformat()

        deleted = self.deleted

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "url": url,
                "events": events,
                "status": status,
                "created_at": created_at,
                "deleted": deleted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["webhook_endpoint"], d.pop("object"))
        if object_ != "webhook_endpoint":
            raise ValueError(f"object must match const 'webhook_endpoint', got '{object_}'")

        url = d.pop("url")

        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = EventType(events_item_data)

            events.append(events_item)

        status = WebhookEndpointStatus(d.pop("status"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        deleted = d.pop("deleted")

        webhook_endpoint_deleted = cls(
            id=id,
            object_=object_,
            url=url,
            events=events,
            status=status,
            created_at=created_at,
            deleted=deleted,
        )

        return webhook_endpoint_deleted
