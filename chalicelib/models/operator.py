"""Request and response models of the operator routes (issue 13)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from chalicelib.models.common import ListEnvelope, RequestModel, ResponseModel, Timestamp

#: A Redis stream entry id, as the dead-letter list shows it.
STREAM_ENTRY_ID = r"^[0-9]{1,20}-[0-9]{1,20}$"


class QueueMetrics(ResponseModel):
    object: Literal["queue_metrics"] = "queue_metrics"
    stream: str
    length: int = Field(description="Entries on the payments stream (the queue depth)")
    pending: int = Field(description="Entries claimed by a handler and not yet acknowledged")
    oldest_pending_age_s: float | None
    lag_s: float = Field(description="How long the oldest due PENDING payment has waited")
    retry_scheduled: int = Field(description="PENDING payments waiting for a retry")
    dead_letters: int
    unknown_outcomes: int = Field(
        description="Attempts whose outcome is unknown, waiting for an inquiry or a void"
    )
    flagged_unknown_outcomes: int = Field(
        description="Of those, the ones unanswered for INQUIRY_FLAG_AFTER_S: look at them"
    )
    orphan_charges_open: int = Field(
        description="Charges reconciliation found standing with no SUCCESS payment at that"
        " connector, not yet reversed"
    )
    orphan_charges_reversed: int = Field(description="Orphan charges reversed at their acquirer")
    at: Timestamp


class ThroughputQuery(RequestModel):
    model_config = ConfigDict(extra="forbid", strict=False)
    minutes: Annotated[int, Field(ge=1, le=1440)] = 60


class ThroughputPoint(ResponseModel):
    at: Timestamp = Field(description="Start of the minute")
    accepted: int
    succeeded: int
    failed: int


class Throughput(ResponseModel):
    object: Literal["throughput"] = "throughput"
    interval_s: int
    data: list[ThroughputPoint]


class MerchantVolumeQuery(RequestModel):
    model_config = ConfigDict(extra="forbid", strict=False)
    hours: Annotated[int, Field(ge=1, le=720)] = 24
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class CurrencyAmount(ResponseModel):
    currency: str
    amount: int = Field(description="Sum of SUCCESS payments, in minor units")


class MerchantVolume(ResponseModel):
    object: Literal["merchant_volume"] = "merchant_volume"
    merchant_id: str
    name: str
    payments: int
    succeeded: int
    failed: int
    success_rate: float | None = Field(description="succeeded / (succeeded + failed)")
    volume: list[CurrencyAmount]


class MerchantVolumeList(ListEnvelope):
    data: list[MerchantVolume]


class DeadLetter(ResponseModel):
    object: Literal["dead_letter"] = "dead_letter"
    id: str = Field(description="The dead letter's own id (a stream entry id)")
    stream: str
    object_id: str = Field(description="The payment or refund it carried")
    deliveries: int
    error: str


class DeadLetterQuery(RequestModel):
    model_config = ConfigDict(extra="forbid", strict=False)
    limit: Annotated[int, Field(ge=1, le=100)] = 100


class DeadLetterList(ListEnvelope):
    data: list[DeadLetter]


class ReplayRequest(RequestModel):
    ids: (
        Annotated[
            list[Annotated[str, Field(pattern=STREAM_ENTRY_ID)]],
            Field(min_length=1, max_length=1000),
        ]
        | None
    ) = Field(default=None, description="Dead letters to replay; all of them when absent")


class Replayed(ResponseModel):
    object: Literal["dead_letter_replay"] = "dead_letter_replay"
    replayed: int = Field(description="Payments and refunds put back on their stream")
    removed: int = Field(description="Dead letters removed from the list")
