"""HTTP server metrics, named after the OpenTelemetry semantic conventions."""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec

# OpenTelemetry's recommended boundaries for http.server.request.duration (seconds), plus
# 1.25, 1.5 and 2 s around the 1 s p95 SLO (HighResponseTime). The threshold is a bucket
# boundary, so "p95 above 1 s" is decided exactly (more than 5 % of requests slower than
# 1 s), and the finer buckets above it keep the estimate close to the truth: with only
# 1.0 and 2.5, every request at 1.1 s reads as a p95 of 2.4 s, and with 0.75 and 1.0 a
# 0.8 s regression reads as 0.99 s for ever.
HTTP_DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
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
