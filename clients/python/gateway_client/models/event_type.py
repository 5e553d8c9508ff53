from enum import StrEnum


class EventType(StrEnum):
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CANCELLED = "payment.cancelled"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_CHARGE_REVERSED = "payment.charge_reversed"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_SUCCEEDED = "payment.succeeded"
    REFUND_FAILED = "refund.failed"
    REFUND_SUCCEEDED = "refund.succeeded"

    def __str__(self) -> str:
        return str(self.value)
