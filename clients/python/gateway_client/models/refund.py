from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

from ..models.refund_status import RefundStatus

T = TypeVar("T", bound="Refund")


@_attrs_define
class Refund:
    """
    Attributes:
        id (str):
        object_ (Literal['refund']):  Default: 'refund'.
        payment_id (str):
        amount (int):
        currency (str):
        status (RefundStatus):
        reason (None | str):
        failure_code (None | str):
        created_at (datetime.datetime):
        updated_at (datetime.datetime):
    """

    id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: None | str
    failure_code: None | str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    object_: Literal["refund"] = "refund"

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        object_ = self.object_

        payment_id = self.payment_id

        amount = self.amount

        currency = self.currency

        status = self.status.value

        reason: None | str
        reason = self.reason

        failure_code: None | str
        failure_code = self.failure_code

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "object": object_,
                "payment_id": payment_id,
                "amount": amount,
                "currency": currency,
                "status": status,
                "reason": reason,
                "failure_code": failure_code,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        object_ = cast(Literal["refund"], d.pop("object"))
        if object_ != "refund":
            raise ValueError(f"object must match const 'refund', got '{object_}'")

        payment_id = d.pop("payment_id")

        amount = d.pop("amount")

        currency = d.pop("currency")

        status = RefundStatus(d.pop("status"))

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        def _parse_failure_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure_code = _parse_failure_code(d.pop("failure_code"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        refund = cls(
            id=id,
            object_=object_,
            payment_id=payment_id,
            amount=amount,
            currency=currency,
            status=status,
            reason=reason,
            failure_code=failure_code,
            created_at=created_at,
            updated_at=updated_at,
        )

        return refund
