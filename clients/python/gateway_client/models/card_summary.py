from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CardSummary")


@_attrs_define
class CardSummary:
    """
    Attributes:
        brand (str):
        last4 (str):
        exp_month (int):
        exp_year (int):
    """

    brand: str
    last4: str
    exp_month: int
    exp_year: int

    def to_dict(self) -> dict[str, Any]:
        brand = self.brand

        last4 = self.last4

        exp_month = self.exp_month

        exp_year = self.exp_year

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "brand": brand,
                "last4": last4,
                "exp_month": exp_month,
                "exp_year": exp_year,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        brand = d.pop("brand")

        last4 = d.pop("last4")

        exp_month = d.pop("exp_month")

        exp_year = d.pop("exp_year")

        card_summary = cls(
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
        )

        return card_summary
