"""Contains all the data models used in inputs/outputs"""

from .capture_payment_request import CapturePaymentRequest
from .card_details import CardDetails
from .card_summary import CardSummary
from .check_state import CheckState
from .checkout_payment import CheckoutPayment
from .checkout_status import CheckoutStatus
from .checkout_status_link_status import CheckoutStatusLinkStatus
from .confirm_request_type_0 import ConfirmRequestType0
from .confirm_request_type_1 import ConfirmRequestType1
from .create_payment_link_request import CreatePaymentLinkRequest
from .create_payment_link_request_capture_method import CreatePaymentLinkRequestCaptureMethod
from .create_payment_request import CreatePaymentRequest
from .create_payment_request_capture_method import CreatePaymentRequestCaptureMethod
from .create_payment_request_metadata import CreatePaymentRequestMetadata
from .create_refund_request import CreateRefundRequest
from .create_webhook_endpoint_request import CreateWebhookEndpointRequest
from .currency_amount import CurrencyAmount
from .dead_letter import DeadLetter
from .dead_letter_list import DeadLetterList
from .delivery_attempt import DeliveryAttempt
from .delivery_attempt_status import DeliveryAttemptStatus
from .error_detail import ErrorDetail
from .error_response import ErrorResponse
from .event import Event
from .event_data import EventData
from .event_list import EventList
from .event_type import EventType
from .event_with_deliveries import EventWithDeliveries
from .event_with_deliveries_data import EventWithDeliveriesData
from .health import Health
from .health_checks import HealthChecks
from .index import Index
from .merchant_volume import MerchantVolume
from .merchant_volume_list import MerchantVolumeList
from .open_api_document import OpenApiDocument
from .payment import Payment
from .payment_cancellation_reason_type_0 import PaymentCancellationReasonType0
from .payment_capture_method import PaymentCaptureMethod
from .payment_created import PaymentCreated
from .payment_created_cancellation_reason_type_0 import PaymentCreatedCancellationReasonType0
from .payment_created_capture_method import PaymentCreatedCaptureMethod
from .payment_created_metadata import PaymentCreatedMetadata
from .payment_history import PaymentHistory
from .payment_history_entry import PaymentHistoryEntry
from .payment_history_entry_outcome_type_0 import PaymentHistoryEntryOutcomeType0
from .payment_history_entry_resolution_type_0 import PaymentHistoryEntryResolutionType0
from .payment_link import PaymentLink
from .payment_link_capture_method import PaymentLinkCaptureMethod
from .payment_link_created import PaymentLinkCreated
from .payment_link_created_capture_method import PaymentLinkCreatedCaptureMethod
from .payment_link_created_status import PaymentLinkCreatedStatus
from .payment_link_list import PaymentLinkList
from .payment_link_status import PaymentLinkStatus
from .payment_list import PaymentList
from .payment_metadata import PaymentMetadata
from .payment_method import PaymentMethod
from .payment_status import PaymentStatus
from .queue_metrics import QueueMetrics
from .redelivered import Redelivered
from .refund import Refund
from .refund_list import RefundList
from .refund_status import RefundStatus
from .replay_request import ReplayRequest
from .replayed import Replayed
from .throughput import Throughput
from .throughput_point import ThroughputPoint
from .webhook_endpoint import WebhookEndpoint
from .webhook_endpoint_created import WebhookEndpointCreated
from .webhook_endpoint_deleted import WebhookEndpointDeleted
from .webhook_endpoint_list import WebhookEndpointList
from .webhook_endpoint_status import WebhookEndpointStatus

__all__ = (
    "CapturePaymentRequest",
    "CardDetails",
    "CardSummary",
    "CheckoutPayment",
    "CheckoutStatus",
    "CheckoutStatusLinkStatus",
    "CheckState",
    "ConfirmRequestType0",
    "ConfirmRequestType1",
    "CreatePaymentLinkRequest",
    "CreatePaymentLinkRequestCaptureMethod",
    "CreatePaymentRequest",
    "CreatePaymentRequestCaptureMethod",
    "CreatePaymentRequestMetadata",
    "CreateRefundRequest",
    "CreateWebhookEndpointRequest",
    "CurrencyAmount",
    "DeadLetter",
    "DeadLetterList",
    "DeliveryAttempt",
    "DeliveryAttemptStatus",
    "ErrorDetail",
    "ErrorResponse",
    "Event",
    "EventData",
    "EventList",
    "EventType",
    "EventWithDeliveries",
    "EventWithDeliveriesData",
    "Health",
    "HealthChecks",
    "Index",
    "MerchantVolume",
    "MerchantVolumeList",
    "OpenApiDocument",
    "Payment",
    "PaymentCancellationReasonType0",
    "PaymentCaptureMethod",
    "PaymentCreated",
    "PaymentCreatedCancellationReasonType0",
    "PaymentCreatedCaptureMethod",
    "PaymentCreatedMetadata",
    "PaymentHistory",
    "PaymentHistoryEntry",
    "PaymentHistoryEntryOutcomeType0",
    "PaymentHistoryEntryResolutionType0",
    "PaymentLink",
    "PaymentLinkCaptureMethod",
    "PaymentLinkCreated",
    "PaymentLinkCreatedCaptureMethod",
    "PaymentLinkCreatedStatus",
    "PaymentLinkList",
    "PaymentLinkStatus",
    "PaymentList",
    "PaymentMetadata",
    "PaymentMethod",
    "PaymentStatus",
    "QueueMetrics",
    "Redelivered",
    "Refund",
    "RefundList",
    "RefundStatus",
    "Replayed",
    "ReplayRequest",
    "Throughput",
    "ThroughputPoint",
    "WebhookEndpoint",
    "WebhookEndpointCreated",
    "WebhookEndpointDeleted",
    "WebhookEndpointList",
    "WebhookEndpointStatus",
)
