from enum import StrEnum


class PaymentHistoryEntryResolutionType0(StrEnum):
    DECLINED = "declined"
    NOT_CHARGED = "not_charged"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
