"""The instrumentation SDK FANZ services import: metrics, traces and logs in one call.

>>> from fanzwatch.sdk import TelemetryMiddleware, init_telemetry, record_payment
>>> telemetry = init_telemetry(service_name="payments", platform="fanz-1")
>>> app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
>>> record_payment(amount=Decimal("9.99"), currency="USD", payment_type="tip", status="completed")

Every metric comes from the catalog (``fanzwatch.core.CATALOG``); see docs/sdk.md.
"""

from ._internal.active_users import ActiveUsersCollector, ActiveUsersTracker, InMemoryActiveUsers
from ._internal.active_users_redis import RedisActiveUsers
from ._internal.api import (
    declare_payments,
    instrument_db_pool,
    mark_user_active,
    record_error,
    record_payment,
    record_payout,
    record_registration,
    record_renewal,
    record_upload,
)
from ._internal.business import (
    BusinessMetrics,
    ContentType,
    CreatorTier,
    InvalidBusinessEventError,
    PaymentStatus,
    PaymentType,
    RegistrationSource,
    Role,
    Severity,
)
from ._internal.exposition import mark_worker_dead
from ._internal.instruments import LabelBounds, build_prometheus_metric
from ._internal.json_logs import JsonFormatter, configure_logging
from ._internal.middleware import TelemetryMiddleware, user_id_from_state
from ._internal.process import TelemetryNotInitialisedError, current_telemetry
from ._internal.request_id import current_request_id
from ._internal.setup import build_telemetry, init_telemetry
from ._internal.telemetry import Telemetry
from ._internal.tracing import (
    ExternalCall,
    add_event,
    current_traceparent,
    set_attributes,
    trace_db,
    trace_external,
    trace_operation,
)

__all__ = [
    "ActiveUsersCollector",
    "ActiveUsersTracker",
    "BusinessMetrics",
    "ContentType",
    "CreatorTier",
    "ExternalCall",
    "InMemoryActiveUsers",
    "InvalidBusinessEventError",
    "JsonFormatter",
    "LabelBounds",
    "PaymentStatus",
    "PaymentType",
    "RedisActiveUsers",
    "RegistrationSource",
    "Role",
    "Severity",
    "Telemetry",
    "TelemetryMiddleware",
    "TelemetryNotInitialisedError",
    "add_event",
    "build_prometheus_metric",
    "build_telemetry",
    "configure_logging",
    "current_request_id",
    "current_telemetry",
    "current_traceparent",
    "declare_payments",
    "init_telemetry",
    "instrument_db_pool",
    "mark_user_active",
    "mark_worker_dead",
    "record_error",
    "record_payment",
    "record_payout",
    "record_registration",
    "record_renewal",
    "record_upload",
    "set_attributes",
    "trace_db",
    "trace_external",
    "trace_operation",
    "user_id_from_state",
]
