from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.create_payment_link_request_capture_method import CreatePaymentLinkRequestCaptureMethod
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreatePaymentLinkRequest")


@_attrs_define
class CreatePaymentLinkRequest:
    """POST /api/v1/payment_links.

    Attributes:
        amount (int): Minor units
        currency (str): ISO 4217 code of a supported currency, any case
        description (None | str | Unset):
        order_id (None | str | Unset):
        capture_method (CreatePaymentLinkRequestCaptureMethod | Unset):  Default:
            CreatePaymentLinkRequestCaptureMethod.AUTOMATIC.
        expires_at (datetime.datetime | None | Unset): ISO 8601 with a UTC offset; in the future, at most a year away
        return_url (None | str | Unset):
    """

    amount: int
    currency: str
    description: None | str | Unset = UNSET
    order_id: None | str | Unset = UNSET
    capture_method: CreatePaymentLinkRequestCaptureMethod | Unset = CreatePaymentLinkRequestCaptureMethod.AUTOMATIC
    expires_at: datetime.datetime | None | Unset = UNSET
    return_url: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        order_id: None | str | Unset
        if isinstance(self.order_id, Unset):
            order_id = UNSET
        else:
            order_id = self.order_id

        capture_method: str | Unset = UNSET
        if not isinstance(self.capture_method, Unset):
            capture_method = self.capture_method.value

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        return_url: None | str | Unset
        if isinstance(self.return_url, Unset):
            return_url = UNSET
        else:
            return_url = self.return_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if order_id is not UNSET:
            field_dict["order_id"] = order_id
        if capture_method is not UNSET:
            field_dict["capture_method"] = capture_method
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if return_url is not UNSET:
            field_dict["return_url"] = return_url

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = d.pop("currency")

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        def _parse_order_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        order_id = _parse_order_id(d.pop("order_id", UNSET))

        _capture_method = d.pop("capture_method", UNSET)
        capture_method: CreatePaymentLinkRequestCaptureMethod | Unset
        if isinstance(_capture_method, Unset):
            capture_method = UNSET
        else:
            capture_method = CreatePaymentLinkRequestCaptureMethod(_capture_method)

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_return_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        return_url = _parse_return_url(d.pop("return_url", UNSET))

        create_payment_link_request = cls(
            amount=amount,
            currency=currency,
            description=description,
            order_id=order_id,
            capture_method=capture_method,
            expires_at=expires_at,
            return_url=return_url,
        )

        return create_payment_link_request
