from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.payment_status import PaymentStatus

if TYPE_CHECKING:
    from ..models.card_summary import CardSummary


T = TypeVar("T", bound="CheckoutPayment")


@_attrs_define
class CheckoutPayment:
    """A payment as the checkout page sees it: no merchant metadata.

    Attributes:
        id (str):
        object_ (Literal['payment']):  Default: 'payment'.
        status (PaymentStatus):
        amount (int):
        currency (str):
        method (str):
        card (CardSummary | None):
        vpa (None | str):
        failure_code (None | str):
        failure_message (None | str):
    """

    id: str
    status: PaymentStatus
    amount: int
    currency: str
    method: str
    card: CardSummary | None
    vpa: None | str
    failure_code: None | str
    failure_message: None | str
    object_: Literal["payment"] = "payment"

    def to_dict(self) -> dict[str, Any]:
        from ..models.card_summary import CardSummary  # noqa: PLC0415

        id = self.id

        object_ = self.object_

        status = self.status.value

        amount = self.amount

        currency = self.currency

        method = self.method

        card: dict[str, Any] | None
        if isinstance(self.card, CardSummary):
            card = self.card.to_dict()
        else:
            card = self.card

        vpa: None | str
        vpa = self.vpa

        failure_code: None | str
        failure_code = self.failure_code

        failure_message: None | str
        failure_message = self.failure_message

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "status": status,
                "amount": amount,
                "currency": currency,
                "method": method,
                "card": card,
                "vpa": vpa,
                "failure_code": failure_code,
                "failure_message": failure_message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.card_summary import CardSummary  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["payment"], d.pop("object"))
        if object_ != "payment":
            raise ValueError(f"object must match const 'payment', got '{object_}'")

        status = PaymentStatus(d.pop("status"))

        amount = d.pop("amount")

        currency = d.pop("currency")

        method = d.pop("method")

        def _parse_card(data: object) -> CardSummary | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                card_type_0 = CardSummary.from_dict(data)

                return card_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CardSummary | None, data)

        card = _parse_card(d.pop("card"))

        def _parse_vpa(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        vpa = _parse_vpa(d.pop("vpa"))

        def _parse_failure_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure_code = _parse_failure_code(d.pop("failure_code"))

        def _parse_failure_message(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure_message = _parse_failure_message(d.pop("failure_message"))

        checkout_payment = cls(
            id=id,
            object_=object_,
            status=status,
            amount=amount,
            currency=currency,
            method=method,
            card=card,
            vpa=vpa,
            failure_code=failure_code,
            failure_message=failure_message,
        )

        return checkout_payment
