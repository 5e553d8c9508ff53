from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.delivery_attempt_status import DeliveryAttemptStatus

T = TypeVar("T", bound="DeliveryAttempt")


@_attrs_define
class DeliveryAttempt:
    """One attempt at delivering an event to an endpoint (or the next one, when pending).

    Attributes:
        endpoint_id (str):
        attempt (int):
        status (DeliveryAttemptStatus):
        response_status (int | None):
        error (None | str):
        duration_ms (int | None):
        at (datetime.datetime):
    """

    endpoint_id: str
    attempt: int
    status: DeliveryAttemptStatus
    response_status: int | None
    error: None | str
    duration_ms: int | None
    at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        endpoint_id = self.endpoint_id

        attempt = self.attempt

        status = self.status.value

        response_status: int | None
        response_status = self.response_status

        error: None | str
        error = self.error

        duration_ms: int | None
        duration_ms = self.duration_ms

        at = self.at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "endpoint_id": endpoint_id,
                "attempt": attempt,
                "status": status,
                "response_status": response_status,
                "error": error,
                "duration_ms": duration_ms,
                "at": at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        endpoint_id = d.pop("endpoint_id")

        attempt = d.pop("attempt")

        status = DeliveryAttemptStatus(d.pop("status"))

        def _parse_response_status(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        response_status = _parse_response_status(d.pop("response_status"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_duration_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        duration_ms = _parse_duration_ms(d.pop("duration_ms"))

        at = datetime.datetime.fromisoformat(d.pop("at"))

        delivery_attempt = cls(
            endpoint_id=endpoint_id,
            attempt=attempt,
            status=status,
            response_status=response_status,
            error=error,
            duration_ms=duration_ms,
            at=at,
        )

        return delivery_attempt
