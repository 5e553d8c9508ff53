from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CurrencyAmount")


@_attrs_define
class CurrencyAmount:
    """
    Attributes:
        currency (str):
        amount (int): Sum of SUCCESS payments, in minor units
    """

    currency: str
    amount: int

    def to_dict(self) -> dict[str, Any]:
        currency = self.currency

        amount = self.amount

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "currency": currency,
                "amount": amount,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        currency = d.pop("currency")

        amount = d.pop("amount")

        currency_amount = cls(
            currency=currency,
            amount=amount,
        )

        return currency_amount
