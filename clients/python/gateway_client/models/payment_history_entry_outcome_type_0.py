from enum import StrEnum


class PaymentHistoryEntryOutcomeType0(StrEnum):
    DECLINED = "declined"
    ORPHAN_REVERSED = "orphan_reversed"
    RESOLVED_BY_INQUIRY = "resolved_by_inquiry"
    SUCCEEDED = "succeeded"
    TRANSIENT_ERROR = "transient_error"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return str(self.value)
