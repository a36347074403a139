"""Series that Prometheus recording rules compute (``fanzwatch.provisioning`` defines the rules).

Names follow the Prometheus convention ``level:metric:operations``. Dashboards and alerts
read these instead of repeating the expression, so a fix lands in one place. The rule
for each is in ``provisioning/definitions/recording.py``; a test keeps the two in step.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source

_POOL = Label("pool_name", "the pool's configured name (one per engine)")
_JOB = Label("job", "scrape job")
_INSTANCE = Label("instance", "scrape target")

HTTP_REQUEST_RATE = MetricSpec(
    name="platform:http_server_requests:rate5m",
    kind=MetricKind.GAUGE,
    unit="requests per second",
    help="HTTP requests per second per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
HTTP_5XX_RATIO = MetricSpec(
    name="platform:http_server_5xx:ratio_rate5m",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Share (0-1) of HTTP requests answered with a 5xx status per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
HTTP_4XX_RATIO = MetricSpec(
    name="platform:http_server_4xx:ratio_rate5m",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Share (0-1) of HTTP requests answered with a 4xx status per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
HTTP_P95 = MetricSpec(
    name="platform:http_server_request_duration_seconds:p95_5m",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="95th percentile HTTP request duration per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
HTTP_P50 = MetricSpec(
    name="platform:http_server_request_duration_seconds:p50_5m",
    kind=MetricKind.GAUGE,
    unit="seconds",
    help="Median HTTP request duration per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
PAYMENT_FAILURE_RATIO = MetricSpec(
    name="platform:fanz_payment_transactions_failed:ratio_rate5m",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Share (0-1) of payment attempts that failed in processing per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
PAYMENT_SUCCESS_RATIO = MetricSpec(
    name="platform:fanz_payment_transactions_completed:ratio_rate5m",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Share (0-1) of payment attempts that completed per platform, over 5 minutes.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
PAYMENT_ATTEMPTS = MetricSpec(
    name="platform:fanz_payment_transactions:increase5m",
    kind=MetricKind.GAUGE,
    unit="transactions",
    help="Payment attempts per platform in the last 5 minutes (the failure alert's volume guard).",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
REGISTRATIONS_HOURLY = MetricSpec(
    name="platform:fanz_user_registrations:increase1h",
    kind=MetricKind.GAUGE,
    unit="registrations",
    help="Registrations per platform in the last hour.",
    labels=(PLATFORM,),
    source=Source.PROMETHEUS,
)
DB_POOL_USAGE = MetricSpec(
    name="instance:db_client_connection:usage_ratio",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Used connections as a share (0-1) of the pool's maximum, per service instance and pool.",
    labels=(PLATFORM, _POOL, _JOB, _INSTANCE),
    source=Source.PROMETHEUS,
)
MEMORY_USAGE = MetricSpec(
    name="instance:fanz_process_memory:usage_ratio",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Resident memory as a share (0-1) of the process's memory limit, per service instance.",
    labels=(_JOB, _INSTANCE),
    source=Source.PROMETHEUS,
)
FILESYSTEM_AVAILABLE = MetricSpec(
    name="instance:node_filesystem_avail:ratio",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Available space as a share (0-1) of each real, writable filesystem (node_exporter).",
    labels=(
        _JOB,
        _INSTANCE,
        Label("mountpoint", "mount point"),
        Label("fstype", "filesystem type"),
        Label("device", "device"),
    ),
    source=Source.PROMETHEUS,
)

METRICS = (
    HTTP_REQUEST_RATE,
    HTTP_5XX_RATIO,
    HTTP_4XX_RATIO,
    HTTP_P95,
    HTTP_P50,
    PAYMENT_FAILURE_RATIO,
    PAYMENT_SUCCESS_RATIO,
    PAYMENT_ATTEMPTS,
    REGISTRATIONS_HOURLY,
    DB_POOL_USAGE,
    MEMORY_USAGE,
    FILESYSTEM_AVAILABLE,
)
