"""HTTP server metrics, named after the OpenTelemetry semantic conventions."""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec

# OpenTelemetry's recommended boundaries for http.server.request.duration (seconds).
HTTP_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "_OTHER")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")

HTTP_SERVER_REQUEST_DURATION = MetricSpec(
    name="http_server_request_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit="seconds",
    help="Duration of HTTP server requests, by route template.",
    labels=(
        PLATFORM,
        Label("http_request_method", "HTTP method; unknown methods become _OTHER", HTTP_METHODS),
        Label("http_route", "the matched route template; unmatched paths share 'unmatched'"),
        Label("http_response_status_code", "numeric status code (bounded: 100-599)"),
        Label("status_class", "status code class", STATUS_CLASSES),
    ),
    buckets=HTTP_DURATION_BUCKETS,
    guide_name="http_request_duration_ms",
    guide_note="seconds not milliseconds; route template, never the raw path; also "
    "replaces http_requests_total, which the guide queried but never emitted "
    "(use the _count series)",
)

METRICS = (HTTP_SERVER_REQUEST_DURATION,)
