from enum import StrEnum


class PaymentMethod(StrEnum):
    CARD = "card"
    NETBANKING = "netbanking"
    UPI = "upi"
    WALLET = "wallet"

    def __str__(self) -> str:
        return str(self.value)
