from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.payment_created_cancellation_reason_type_0 import PaymentCreatedCancellationReasonType0
from ..models.payment_created_capture_method import PaymentCreatedCaptureMethod
from ..models.payment_method import PaymentMethod
from ..models.payment_status import PaymentStatus

if TYPE_CHECKING:
    from ..models.card_summary import CardSummary
    from ..models.payment_created_metadata import PaymentCreatedMetadata


T = TypeVar("T", bound="PaymentCreated")


@_attrs_define
class PaymentCreated:
    """
    Attributes:
        id (str):
        object_ (Literal['payment']):  Default: 'payment'.
        order_id (str):
        amount (int):
        currency (str):
        method (PaymentMethod):
        status (PaymentStatus):
        vpa (None | str):
        card (CardSummary | None):
        bank (None | str):
        wallet (None | str):
        description (None | str):
        metadata (PaymentCreatedMetadata):
        amount_refunded (int):
        capture_method (PaymentCreatedCaptureMethod):
        amount_capturable (int):
        amount_captured (int):
        capture_before (datetime.datetime | None):
        cancellation_reason (None | PaymentCreatedCancellationReasonType0):
        attempts (int):
        next_attempt_at (datetime.datetime | None):
        failure_code (None | str):
        failure_message (None | str):
        connector (None | str):
        outcome_unknown_since (datetime.datetime | None):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
        payment_link_id (None | str):
        message (Literal['Payment initiated successfully']):  Default: 'Payment initiated successfully'.
    """

    id: str
    order_id: str
    amount: int
    currency: str
    method: PaymentMethod
    status: PaymentStatus
    vpa: None | str
    card: CardSummary | None
    bank: None | str
    wallet: None | str
    description: None | str
    metadata: PaymentCreatedMetadata
    amount_refunded: int
    capture_method: PaymentCreatedCaptureMethod
    amount_capturable: int
    amount_captured: int
    capture_before: datetime.datetime | None
    cancellation_reason: None | PaymentCreatedCancellationReasonType0
    attempts: int
    next_attempt_at: datetime.datetime | None
    failure_code: None | str
    failure_message: None | str
    connector: None | str
    outcome_unknown_since: datetime.datetime | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    payment_link_id: None | str
    object_: Literal["payment"] = "payment"
    message: Literal["Payment initiated successfully"] = "Payment initiated successfully"

    def to_dict(self) -> dict[str, Any]:
        from ..models.card_summary import CardSummary  # noqa: PLC0415

        id = self.id

        object_ = self.object_

        order_id = self.order_id

        amount = self.amount

        currency = self.currency

        method = self.method.value

        status = self.status.value

        vpa: None | str
        vpa = self.vpa

        card: dict[str, Any] | None
        if isinstance(self.card, CardSummary):
            card = self.card.to_dict()
        else:
            card = self.card

        bank: None | str
        bank = self.bank

        wallet: None | str
        wallet = self.wallet

        description: None | str
        description = self.description

        metadata = self.metadata.to_dict()

        amount_refunded = self.amount_refunded

        capture_method = self.capture_method.value

        amount_capturable = self.amount_capturable

        amount_captured = self.amount_captured

        capture_before: None | str
        if isinstance(self.capture_before, datetime.datetime):
            capture_before = self.capture_before.isoformat()
        else:
            capture_before = self.capture_before

        cancellation_reason: None | str
        if isinstance(self.cancellation_reason, PaymentCreatedCancellationReasonType0):
            cancellation_reason = self.cancellation_reason.value
        else:
            cancellation_reason = self.cancellation_reason

        attempts = self.attempts

        next_attempt_at: None | str
        if isinstance(self.next_attempt_at, datetime.datetime):
            next_attempt_at = self.next_attempt_at.isoformat()
        else:
            next_attempt_at = self.next_attempt_at

        failure_code: None | str
        failure_code = self.failure_code

        failure_message: None | str
        failure_message = self.failure_message

        connector: None | str
        connector = self.connector

        outcome_unknown_since: None | str
        if isinstance(self.outcome_unknown_since, datetime.datetime):
            outcome_unknown_since = self.outcome_unknown_since.isoformat()
        else:
            outcome_unknown_since = self.outcome_unknown_since

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        payment_link_id: None | str
        payment_link_id = self.payment_link_id

        message = self.message

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "order_id": order_id,
                "amount": amount,
                "currency": currency,
                "method": method,
                "status": status,
                "vpa": vpa,
                "card": card,
                "bank": bank,
                "wallet": wallet,
                "description": description,
                "metadata": metadata,
                "amount_refunded": amount_refunded,
                "capture_method": capture_method,
                "amount_capturable": amount_capturable,
                "amount_captured": amount_captured,
                "capture_before": capture_before,
                "cancellation_reason": cancellation_reason,
                "attempts": attempts,
                "next_attempt_at": next_attempt_at,
                "failure_code": failure_code,
                "failure_message": failure_message,
                "connector": connector,
                "outcome_unknown_since": outcome_unknown_since,
                "created_at": created_at,
                "updated_at": updated_at,
                "payment_link_id": payment_link_id,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.card_summary import CardSummary  # noqa: PLC0415
        from ..models.payment_created_metadata import PaymentCreatedMetadata  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["payment"], d.pop("object"))
        if object_ != "payment":
            raise ValueError(f"object must match const 'payment', got '{object_}'")

        order_id = d.pop("order_id")

        amount = d.pop("amount")

        currency = d.pop("currency")

        method = PaymentMethod(d.pop("method"))

        status = PaymentStatus(d.pop("status"))

        def _parse_vpa(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        vpa = _parse_vpa(d.pop("vpa"))

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

        def _parse_bank(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bank = _parse_bank(d.pop("bank"))

        def _parse_wallet(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        wallet = _parse_wallet(d.pop("wallet"))

        def _parse_description(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        description = _parse_description(d.pop("description"))

        metadata = PaymentCreatedMetadata.from_dict(d.pop("metadata"))

        amount_refunded = d.pop("amount_refunded")

        capture_method = PaymentCreatedCaptureMethod(d.pop("capture_method"))

        amount_capturable = d.pop("amount_capturable")

        amount_captured = d.pop("amount_captured")

        def _parse_capture_before(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                capture_before_type_0 = datetime.datetime.fromisoformat(data)

                return capture_before_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        capture_before = _parse_capture_before(d.pop("capture_before"))

        def _parse_cancellation_reason(data: object) -> None | PaymentCreatedCancellationReasonType0:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                cancellation_reason_type_0 = PaymentCreatedCancellationReasonType0(data)

                return cancellation_reason_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PaymentCreatedCancellationReasonType0, data)

        cancellation_reason = _parse_cancellation_reason(d.pop("cancellation_reason"))

        attempts = d.pop("attempts")

        def _parse_next_attempt_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_attempt_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_attempt_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_attempt_at = _parse_next_attempt_at(d.pop("next_attempt_at"))

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

        def _parse_connector(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        connector = _parse_connector(d.pop("connector"))

        def _parse_outcome_unknown_since(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                outcome_unknown_since_type_0 = datetime.datetime.fromisoformat(data)

                return outcome_unknown_since_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        outcome_unknown_since = _parse_outcome_unknown_since(d.pop("outcome_unknown_since"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_payment_link_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        payment_link_id = _parse_payment_link_id(d.pop("payment_link_id"))

        message = cast(Literal["Payment initiated successfully"], d.pop("message"))
        if message != "Payment initiated successfully":
            raise ValueError(f"message must match const 'Payment initiated successfully', got '{message}'")

        payment_created = cls(
            id=id,
            object_=object_,
            order_id=order_id,
            amount=amount,
            currency=currency,
            method=method,
            status=status,
            vpa=vpa,
            card=card,
            bank=bank,
            wallet=wallet,
            description=description,
            metadata=metadata,
            amount_refunded=amount_refunded,
            capture_method=capture_method,
            amount_capturable=amount_capturable,
            amount_captured=amount_captured,
            capture_before=capture_before,
            cancellation_reason=cancellation_reason,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            failure_code=failure_code,
            failure_message=failure_message,
            connector=connector,
            outcome_unknown_since=outcome_unknown_since,
            created_at=created_at,
            updated_at=updated_at,
            payment_link_id=payment_link_id,
            message=message,
        )

        return payment_created
