from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.check_state import CheckState

if TYPE_CHECKING:
    from ..models.health_checks import HealthChecks


T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        status (CheckState):
        checks (HealthChecks):
    """

    status: CheckState
    checks: HealthChecks

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        checks = self.checks.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "checks": checks,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.health_checks import HealthChecks  # noqa: PLC0415

        d = dict(src_dict)
        status = CheckState(d.pop("status"))

        checks = HealthChecks.from_dict(d.pop("checks"))

        health = cls(
            status=status,
            checks=checks,
        )

        return health
