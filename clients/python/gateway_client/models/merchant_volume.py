from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.currency_amount import CurrencyAmount


T = TypeVar("T", bound="MerchantVolume")


@_attrs_define
class MerchantVolume:
    """
    Attributes:
        object_ (Literal['merchant_volume']):  Default: 'merchant_volume'.
        merchant_id (str):
        name (str):
        payments (int):
        succeeded (int):
        failed (int):
        success_rate (float | None): succeeded / (succeeded + failed)
        volume (list[CurrencyAmount]):
    """

    merchant_id: str
    name: str
    payments: int
    succeeded: int
    failed: int
    success_rate: float | None
    volume: list[CurrencyAmount]
    object_: Literal["merchant_volume"] = "merchant_volume"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        merchant_id = self.merchant_id

        name = self.name

        payments = self.payments

        succeeded = self.succeeded

        failed = self.failed

        success_rate: float | None
        success_rate = self.success_rate

        volume = []
        for volume_item_data in self.volume:
            volume_item = volume_item_data.to_dict()
            volume.append(volume_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "merchant_id": merchant_id,
                "name": name,
                "payments": payments,
                "succeeded": succeeded,
                "failed": failed,
                "success_rate": success_rate,
                "volume": volume,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.currency_amount import CurrencyAmount  # noqa: PLC0415

        d = dict(src_dict)
        object_ = cast(Literal["merchant_volume"], d.pop("object"))
        if object_ != "merchant_volume":
            raise ValueError(f"object must match const 'merchant_volume', got '{object_}'")

        merchant_id = d.pop("merchant_id")

        name = d.pop("name")

        payments = d.pop("payments")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        def _parse_success_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        success_rate = _parse_success_rate(d.pop("success_rate"))

        volume = []
        _volume = d.pop("volume")
        for volume_item_data in _volume:
            volume_item = CurrencyAmount.from_dict(volume_item_data)

            volume.append(volume_item)

        merchant_volume = cls(
            object_=object_,
            merchant_id=merchant_id,
            name=name,
            payments=payments,
            succeeded=succeeded,
            failed=failed,
            success_rate=success_rate,
            volume=volume,
        )

        return merchant_volume
