from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.create_payment_request_capture_method import CreatePaymentRequestCaptureMethod
from ..models.payment_method import PaymentMethod
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.card_details import CardDetails
    from ..models.create_payment_request_metadata import CreatePaymentRequestMetadata


T = TypeVar("T", bound="CreatePaymentRequest")


@_attrs_define
class CreatePaymentRequest:
    """POST /api/v1/payments.

    Attributes:
        order_id (str):
        amount (int): Minor units
        currency (str): ISO 4217 code of a supported currency, any case
        method (PaymentMethod):
        capture_method (CreatePaymentRequestCaptureMethod | Unset):  Default:
            CreatePaymentRequestCaptureMethod.AUTOMATIC.
        vpa (None | str | Unset):
        card (CardDetails | None | Unset):
        bank (None | str | Unset):
        wallet (None | str | Unset):
        description (None | str | Unset):
        metadata (CreatePaymentRequestMetadata | Unset):
    """

    order_id: str
    amount: int
    currency: str
    method: PaymentMethod
    capture_method: CreatePaymentRequestCaptureMethod | Unset = CreatePaymentRequestCaptureMethod.AUTOMATIC
    vpa: None | str | Unset = UNSET
    card: CardDetails | None | Unset = UNSET
    bank: None | str | Unset = UNSET
    wallet: None | str | Unset = UNSET
    description: None | str | Unset = UNSET
    metadata: CreatePaymentRequestMetadata | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.card_details import CardDetails  # noqa: PLC0415

        order_id = self.order_id

        amount = self.amount

        currency = self.currency

        method = self.method.value

        capture_method: str | Unset = UNSET
        if not isinstance(self.capture_method, Unset):
            capture_method = self.capture_method.value

        vpa: None | str | Unset
        if isinstance(self.vpa, Unset):
            vpa = UNSET
        else:
            vpa = self.vpa

        card: dict[str, Any] | None | Unset
        if isinstance(self.card, Unset):
            card = UNSET
        elif isinstance(self.card, CardDetails):
            card = self.card.to_dict()
        else:
            card = self.card

        bank: None | str | Unset
        if isinstance(self.bank, Unset):
            bank = UNSET
        else:
            bank = self.bank

        wallet: None | str | Unset
        if isinstance(self.wallet, Unset):
            wallet = UNSET
        else:
            wallet = self.wallet

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "order_id": order_id,
                "amount": amount,
                "currency": currency,
                "method": method,
            }
        )
        if capture_method is not UNSET:
            field_dict["capture_method"] = capture_method
        if vpa is not UNSET:
            field_dict["vpa"] = vpa
        if card is not UNSET:
            field_dict["card"] = card
        if bank is not UNSET:
            field_dict["bank"] = bank
        if wallet is not UNSET:
            field_dict["wallet"] = wallet
        if description is not UNSET:
            field_dict["description"] = description
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.card_details import CardDetails  # noqa: PLC0415
        from ..models.create_payment_request_metadata import CreatePaymentRequestMetadata  # noqa: PLC0415

        d = dict(src_dict)
        order_id = d.pop("order_id")

        amount = d.pop("amount")

        currency = d.pop("currency")

        method = PaymentMethod(d.pop("method"))

        _capture_method = d.pop("capture_method", UNSET)
        capture_method: CreatePaymentRequestCaptureMethod | Unset
        if isinstance(_capture_method, Unset):
            capture_method = UNSET
        else:
            capture_method = CreatePaymentRequestCaptureMethod(_capture_method)

        def _parse_vpa(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        vpa = _parse_vpa(d.pop("vpa", UNSET))

        def _parse_card(data: object) -> CardDetails | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                card_type_0 = CardDetails.from_dict(data)

                return card_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(CardDetails | None | Unset, data)

        card = _parse_card(d.pop("card", UNSET))

        def _parse_bank(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bank = _parse_bank(d.pop("bank", UNSET))

        def _parse_wallet(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        wallet = _parse_wallet(d.pop("wallet", UNSET))

        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))

        _metadata = d.pop("metadata", UNSET)
        metadata: CreatePaymentRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CreatePaymentRequestMetadata.from_dict(_metadata)

        create_payment_request = cls(
            order_id=order_id,
            amount=amount,
            currency=currency,
            method=method,
            capture_method=capture_method,
            vpa=vpa,
            card=card,
            bank=bank,
            wallet=wallet,
            description=description,
            metadata=metadata,
        )

        return create_payment_request
