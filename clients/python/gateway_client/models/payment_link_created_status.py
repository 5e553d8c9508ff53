from enum import StrEnum


class PaymentLinkCreatedStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    EXPIRED = "expired"
    PAID = "paid"

    def __str__(self) -> str:
        return str(self.value)
