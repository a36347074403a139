"""Service runtime metrics: database pools, errors, memory limit, telemetry self-health."""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec

SEVERITIES = ("critical", "warning", "info")
POOL_NAME = Label("pool_name", "the pool's configured name (one per engine)")

DB_CONNECTION_COUNT = MetricSpec(
    name="db_client_connection_count",
    kind=MetricKind.GAUGE,
    unit="connections",
    help="Connections in the client pool, by state, read from the SQLAlchemy pool.",
    labels=(PLATFORM, POOL_NAME, Label("state", "used or idle", ("used", "idle"))),
    guide_name="database_connections",
    guide_note="read from the real pool at scrape time instead of +1/-1 bookkeeping",
)
DB_CONNECTION_MAX = MetricSpec(
    name="db_client_connection_max",
    kind=MetricKind.GAUGE,
    unit="connections",
    help="Maximum connections the client pool allows (pool size plus overflow).",
    labels=(PLATFORM, POOL_NAME),
)
ERRORS = MetricSpec(
    name="fanz_errors",
    kind=MetricKind.COUNTER,
    unit="errors",
    help="Errors handled or raised by a service.",
    labels=(
        PLATFORM,
        Label("error_type", "exception class name or a fixed error code"),
        Label("service", "the emitting service's name"),
        Label("severity", "how bad", SEVERITIES),
    ),
    guide_name="errors_total",
)
MEMORY_LIMIT = MetricSpec(
    name="fanz_process_memory_limit_bytes",
    kind=MetricKind.GAUGE,
    unit="bytes",
    help="Memory the process may use: the cgroup limit, else the configured one, else total RAM.",
    labels=(),
)
TELEMETRY_FAILURES = MetricSpec(
    name="fanz_telemetry_failures",
    kind=MetricKind.COUNTER,
    unit="failures",
    help="Failures inside telemetry itself (export, ingest), caught so the host goes on.",
    labels=(Label("component", "which part failed, e.g. otlp_export, middleware"),),
)

METRICS = (DB_CONNECTION_COUNT, DB_CONNECTION_MAX, ERRORS, MEMORY_LIMIT, TELEMETRY_FAILURES)
