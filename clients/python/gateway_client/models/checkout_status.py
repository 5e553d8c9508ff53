from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.checkout_status_link_status import CheckoutStatusLinkStatus

if TYPE_CHECKING:
    from ..models.checkout_payment import CheckoutPayment


T = TypeVar("T", bound="CheckoutStatus")


@_attrs_define
class CheckoutStatus:
    """GET /pay/{link_id}/status.

    Attributes:
        object_ (Literal['checkout_status']):  Default: 'checkout_status'.
        link_status (CheckoutStatusLinkStatus):
        payment (CheckoutPayment | None):
        redirect_url (None | str):
    """

    link_status: CheckoutStatusLinkStatus
    payment: CheckoutPayment | None
    redirect_url: None | str
    object_: Literal["checkout_status"] = "checkout_status"

    def to_dict(self) -> dict[str, Any]:
        from ..models.checkout_payment import CheckoutPayment  # noqa: PLC0415

        object_ = self.object_

        link_status = self.link_status.value

        payment: dict[str, Any] | None
        if isinstance(self.payment, CheckoutPayment):
            payment = self.payment.to_dict()
        else:
            payment = self.payment

        redirect_url: None | str
        redirect_url = self.redirect_url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "link_status": link_status,
                "payment": payment,
                "redirect_url": redirect_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.checkout_payment import CheckoutPayment  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["checkout_status"], d.pop("object"))
        if object_ != "checkout_status":
            raise ValueError(f"object must match const 'checkout_status', got '{object_}'")

        link_status = CheckoutStatusLinkStatus(d.pop("link_status"))

        def _parse_payment(data: object) -> CheckoutPayment | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                payment_type_0 = CheckoutPayment.from_dict(data)

                return payment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CheckoutPayment | None, data)

        payment = _parse_payment(d.pop("payment"))

        def _parse_redirect_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        redirect_url = _parse_redirect_url(d.pop("redirect_url"))

        checkout_status = cls(
            object_=object_,
            link_status=link_status,
            payment=payment,
            redirect_url=redirect_url,
        )

        return checkout_status
