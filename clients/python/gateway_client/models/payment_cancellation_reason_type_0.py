from enum import StrEnum


class PaymentCancellationReasonType0(StrEnum):
    EXPIRED = "expired"
    REQUESTED_BY_CUSTOMER = "requested_by_customer"

    def __str__(self) -> str:
        return str(self.value)
