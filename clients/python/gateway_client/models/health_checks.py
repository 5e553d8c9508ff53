from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.check_state import CheckState

T = TypeVar("T", bound="HealthChecks")


@_attrs_define
class HealthChecks:
    """
    Attributes:
        postgres (CheckState):
        redis (CheckState):
    """

    postgres: CheckState
    redis: CheckState

    def to_dict(self) -> dict[str, Any]:
        postgres = self.postgres.value

        redis = self.redis.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "postgres": postgres,
                "redis": redis,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        postgres = CheckState(d.pop("postgres"))

        redis = CheckState(d.pop("redis"))

        health_checks = cls(
            postgres=postgres,
            redis=redis,
        )

        return health_checks
