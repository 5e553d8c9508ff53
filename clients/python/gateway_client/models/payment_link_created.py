from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.payment_link_created_capture_method import PaymentLinkCreatedCaptureMethod
from ..models.payment_link_created_status import PaymentLinkCreatedStatus

T = TypeVar("T", bound="PaymentLinkCreated")


@_attrs_define
class PaymentLinkCreated:
    """
    Attributes:
        id (str):
        object_ (Literal['payment_link']):  Default: 'payment_link'.
        url (str):
        active (bool):
        status (PaymentLinkCreatedStatus):
        amount (int):
        currency (str):
        description (None | str):
        order_id (str):
        capture_method (PaymentLinkCreatedCaptureMethod):
        return_url (None | str):
        expires_at (datetime.datetime | None):
        payment_id (None | str):
        payment_count (int):
        return_signing_secret (None | str):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        client_secret (None | str):
    """

    id: str
    url: str
    active: bool
    status: PaymentLinkCreatedStatus
    amount: int
    currency: str
    description: None | str
    order_id: str
    capture_method: PaymentLinkCreatedCaptureMethod
    return_url: None | str
    expires_at: datetime.datetime | None
    payment_id: None | str
    payment_count: int
    return_signing_secret: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    client_secret: None | str
    object_: Literal["payment_link"] = "payment_link"

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_ = self.object_

        url = self.url

        active = self.active

        status = self.status.value

        amount = self.amount

        currency = self.currency

        description: None | str
        description = self.description

        order_id = self.order_id

        capture_method = self.capture_method.value

        return_url: None | str
        return_url = self.return_url

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        payment_id: None | str
        payment_id = self.payment_id

        payment_count = self.payment_count

        return_signing_secret: None | str
        return_signing_secret = self.return_signing_secret

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        client_secret: None | str
        client_secret = self.client_secret

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "url": url,
                "active": active,
                "status": status,
                "amount": amount,
                "currency": currency,
                "description": description,
                "order_id": order_id,
                "capture_method": capture_method,
                "return_url": return_url,
                "expires_at": expires_at,
                "payment_id": payment_id,
                "payment_count": payment_count,
                "return_signing_secret": return_signing_secret,
                "created_at": created_at,
                "updated_at": updated_at,
                "client_secret": client_secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["payment_link"], d.pop("object"))
        if object_ != "payment_link":
            raise ValueError(f"object must match const 'payment_link', got '{object_}'")

        url = d.pop("url")

        active = d.pop("active")

        status = PaymentLinkCreatedStatus(d.pop("status"))

        amount = d.pop("amount")

        currency = d.pop("currency")

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        order_id = d.pop("order_id")

        capture_method = PaymentLinkCreatedCaptureMethod(d.pop("capture_method"))

        def _parse_return_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        return_url = _parse_return_url(d.pop("return_url"))

        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))

        def _parse_payment_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        payment_id = _parse_payment_id(d.pop("payment_id"))

        payment_count = d.pop("payment_count")

        def _parse_return_signing_secret(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        return_signing_secret = _parse_return_signing_secret(d.pop("return_signing_secret"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_client_secret(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        client_secret = _parse_client_secret(d.pop("client_secret"))

        payment_link_created = cls(
            id=id,
            object_=object_,
            url=url,
            active=active,
            status=status,
            amount=amount,
            currency=currency,
            description=description,
            order_id=order_id,
            capture_method=capture_method,
            return_url=return_url,
            expires_at=expires_at,
            payment_id=payment_id,
            payment_count=payment_count,
            return_signing_secret=return_signing_secret,
            created_at=created_at,
            updated_at=updated_at,
            client_secret=client_secret,
        )

        return payment_link_created
