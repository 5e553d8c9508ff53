from enum import StrEnum


class PaymentHistoryEntryOutcomeType0(StrEnum):
    CAPTURED = "captured"
    DECLINED = "declined"
    EXPIRED = "expired"
    ORPHAN_REVERSED = "orphan_reversed"
    RESOLVED_BY_INQUIRY = "resolved_by_inquiry"
    SUCCEEDED = "succeeded"
    TRANSIENT_ERROR = "transient_error"
    UNKNOWN = "unknown"
    VOIDED = "voided"

    def __str__(self) -> str:
        return str(self.value)
