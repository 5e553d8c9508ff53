from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CardDetails")


@_attrs_define
class CardDetails:
    """
    Attributes:
        number (str):
        exp_month (int):
        exp_year (int):
        cvc (str):
    """

    number: str
    exp_month: int
    exp_year: int
    cvc: str

    def to_dict(self) -> dict[str, Any]:
        number = self.number

        exp_month = self.exp_month

        exp_year = self.exp_year

        cvc = self.cvc

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "number": number,
                "exp_month": exp_month,
                "exp_year": exp_year,
                "cvc": cvc,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        number = d.pop("number")

        exp_month = d.pop("exp_month")

        exp_year = d.pop("exp_year")

        cvc = d.pop("cvc")

        card_details = cls(
            number=number,
            exp_month=exp_month,
            exp_year=exp_year,
            cvc=cvc,
        )

        return card_details
