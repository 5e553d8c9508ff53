"""Refund request and response models (docs/api.md, Refunds)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictStr

from chalicelib.ids import REFUND, id_pattern
from chalicelib.models.common import ListEnvelope, ListQuery, RequestModel, ResponseModel, Timestamp
from chalicelib.models.payments import NO_NUL, Amount

#: What the API shows. The table also has PROCESSING (a refund being executed by
#: the batch processor); it is shown as PENDING, since nothing final happened yet.
RefundStatus = Literal["PENDING", "SUCCESS", "FAILED"]


class CreateRefundRequest(RequestModel):
    """POST /api/v1/payments/{id}/refunds. An empty body refunds all that is left."""

    amount: Annotated[
        Amount | None, Field(description="Minor units; default: all that is not yet refunded")
    ] = None
    reason: Annotated[StrictStr | None, Field(max_length=255, pattern=NO_NUL)] = None


class Refund(ResponseModel):
    id: str
    object: Literal["refund"] = "refund"
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str | None
    failure_code: str | None
    created_at: Timestamp
    updated_at: Timestamp


class RefundList(ListEnvelope):
    data: list[Refund]


class ListRefundsQuery(ListQuery):
    """Query string of GET /api/v1/payments/{id}/refunds."""

    starting_after: Annotated[str | None, Field(pattern=id_pattern(REFUND))] = None
