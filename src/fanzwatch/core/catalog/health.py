"""Health-check metrics, emitted by ``fanzwatch.health`` wherever it runs."""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec

CHECK = Label("check", "the check's configured name, e.g. database, redis, payment_processor")
HEALTH_STATUSES = ("pass", "warn", "fail")

HEALTH_CHECK_STATUS = MetricSpec(
    name="fanz_health_check_status",
    kind=MetricKind.GAUGE,
    unit="state",
    help="1 for the check's current status, 0 for the others (a state set over pass/warn/fail).",
    labels=(PLATFORM, CHECK, Label("status", "check status", HEALTH_STATUSES)),
    guide_name="recordHealthCheck",
    guide_note="the guide calls recordHealthCheck but never defines it; this is its metric",
)
HEALTH_CHECK_CRITICAL = MetricSpec(
    name="fanz_health_check_critical",
    kind=MetricKind.GAUGE,
    unit="boolean",
    help="1 when the check is critical (its failure fails readiness), 0 when it only warns.",
    labels=(PLATFORM, CHECK),
)
HEALTH_CHECK_DURATION = MetricSpec(
    name="fanz_health_check_duration_seconds",
    kind=MetricKind.HISTOGRAM,
    unit="seconds",
    help="Time one run of the check took, timeouts included.",
    labels=(PLATFORM, CHECK),
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HEALTH_CHECK_LAST_SUCCESS = MetricSpec(
    name="fanz_health_check_last_success_timestamp_seconds",
    kind=MetricKind.GAUGE,
    unit="seconds since epoch",
    help="Unix time of the check's last success: a run that passed or warned (the dependency answered).",
    labels=(PLATFORM, CHECK),
)

METRICS = (HEALTH_CHECK_STATUS, HEALTH_CHECK_CRITICAL, HEALTH_CHECK_DURATION, HEALTH_CHECK_LAST_SUCCESS)
