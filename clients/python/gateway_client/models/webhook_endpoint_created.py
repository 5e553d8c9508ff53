from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.event_type import EventType
from ..models.webhook_endpoint_status import WebhookEndpointStatus

T = TypeVar("T", bound="WebhookEndpointCreated")


@_attrs_define
class WebhookEndpointCreated:
    """The only answers that carry the signing secret: creation and rotation.

    Attributes:
        id (str):
        object_ (Literal['webhook_endpoint']):  Default: 'webhook_endpoint'.
        url (str):
        events (list[EventType]):
        status (WebhookEndpointStatus):
        created_at (datetime.datetime):
        secret (None | str): whsec_<base64>; shown once. null in a replay under the Idempotency-Key
        secret_withheld (bool): true when this is a replay: the secret is never stored, so it is not shown Default:
            False.
    """

    id: str
    url: str
    events: list[EventType]
    status: WebhookEndpointStatus
    created_at: datetime.datetime
    secret: None | str
    object_: Literal["webhook_endpoint"] = "webhook_endpoint"
    secret_withheld: bool = False

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

        secret: None | str
        secret = self.secret

        secret_withheld = self.secret_withheld

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "url": url,
                "events": events,
                "status": status,
                "created_at": created_at,
                "secret": secret,
                "secret_withheld": secret_withheld,
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

        def _parse_secret(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        secret = _parse_secret(d.pop("secret"))

        secret_withheld = d.pop("secret_withheld")

        webhook_endpoint_created = cls(
            id=id,
            object_=object_,
            url=url,
            events=events,
            status=status,
            created_at=created_at,
            secret=secret,
            secret_withheld=secret_withheld,
        )

        return webhook_endpoint_created
