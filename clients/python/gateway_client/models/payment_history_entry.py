from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.payment_history_entry_outcome_type_0 import PaymentHistoryEntryOutcomeType0
from ..models.payment_history_entry_resolution_type_0 import PaymentHistoryEntryResolutionType0
from ..models.payment_status import PaymentStatus

T = TypeVar("T", bound="PaymentHistoryEntry")


@_attrs_define
class PaymentHistoryEntry:
    """
    Attributes:
        at (datetime.datetime):
        from_status (None | PaymentStatus):
        to_status (PaymentStatus):
        attempt (int | None):
        outcome (None | PaymentHistoryEntryOutcomeType0):
        failure_code (None | str):
        latency_ms (int | None):
        connector (None | str):
        resolution (None | PaymentHistoryEntryResolutionType0):
    """

    at: datetime.datetime
    from_status: None | PaymentStatus
    to_status: PaymentStatus
    attempt: int | None
    outcome: None | PaymentHistoryEntryOutcomeType0
    failure_code: None | str
    latency_ms: int | None
    connector: None | str
    resolution: None | PaymentHistoryEntryResolutionType0

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        from_status: None | str
        if isinstance(self.from_status, PaymentStatus):
            from_status = self.from_status.value
        else:
            from_status = self.from_status

        to_status = self.to_status.value

        attempt: int | None
        attempt = self.attempt

        outcome: None | str
        if isinstance(self.outcome, PaymentHistoryEntryOutcomeType0):
            outcome = self.outcome.value
        else:
            outcome = self.outcome

        failure_code: None | str
        failure_code = self.failure_code

        latency_ms: int | None
        latency_ms = self.latency_ms

        connector: None | str
        connector = self.connector

        resolution: None | str
        if isinstance(self.resolution, PaymentHistoryEntryResolutionType0):
            resolution = self.resolution.value
        else:
            resolution = self.resolution

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "at": at,
                "from_status": from_status,
                "to_status": to_status,
                "attempt": attempt,
                "outcome": outcome,
                "failure_code": failure_code,
                "latency_ms": latency_ms,
                "connector": connector,
                "resolution": resolution,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        def _parse_from_status(data: object) -> None | PaymentStatus:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                from_status_type_0 = PaymentStatus(data)

                return from_status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PaymentStatus, data)

        from_status = _parse_from_status(d.pop("from_status"))

        to_status = PaymentStatus(d.pop("to_status"))

        def _parse_attempt(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        attempt = _parse_attempt(d.pop("attempt"))

        def _parse_outcome(data: object) -> None | PaymentHistoryEntryOutcomeType0:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                outcome_type_0 = PaymentHistoryEntryOutcomeType0(data)

                return outcome_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PaymentHistoryEntryOutcomeType0, data)

        outcome = _parse_outcome(d.pop("outcome"))

        def _parse_failure_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        failure_code = _parse_failure_code(d.pop("failure_code"))

        def _parse_latency_ms(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        latency_ms = _parse_latency_ms(d.pop("latency_ms"))

        def _parse_connector(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        connector = _parse_connector(d.pop("connector"))

        def _parse_resolution(data: object) -> None | PaymentHistoryEntryResolutionType0:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                resolution_type_0 = PaymentHistoryEntryResolutionType0(data)

                return resolution_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PaymentHistoryEntryResolutionType0, data)

        resolution = _parse_resolution(d.pop("resolution"))

        payment_history_entry = cls(
            at=at,
            from_status=from_status,
            to_status=to_status,
            attempt=attempt,
            outcome=outcome,
            failure_code=failure_code,
            latency_ms=latency_ms,
            connector=connector,
            resolution=resolution,
        )

        return payment_history_entry
