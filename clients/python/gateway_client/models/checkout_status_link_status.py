from enum import StrEnum


class CheckoutStatusLinkStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    EXPIRED = "expired"
    PAID = "paid"

    def __str__(self) -> str:
        return str(self.value)
