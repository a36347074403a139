"""Service alerts: HTTP errors and latency, database pools, memory (the guide's 1, 2, 3, 6).

Corrections of the guide: errors are a **ratio** of 5xx to all requests (not an absolute
rate, which scales with traffic); latency is the p95 of the **seconds** histogram; pool
use is a ratio of the pool's **maximum** (not a fixed 80 connections); memory is judged
against the process's **limit** (cgroup, configured or RAM; not a fixed 1 GB). Ratios
on HTTP traffic need a minimum volume so two failed requests at 4 a.m. do not page.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import recording as rec
from .._output import human_duration
from ..rules import AlertRule, RuleGroup
from .recording import DEFAULT_RATE_WINDOW

MIN_REQUEST_RATE = 0.1
"""Requests per second (30 per 5 minutes) below which HTTP ratios are too noisy to alert on."""
ERROR_RATIO_WARNING = 0.01
ERROR_RATIO_CRITICAL = 0.05
P95_SECONDS_WARNING = 1.0
POOL_USAGE_WARNING = 0.8
POOL_USAGE_CRITICAL = 0.95
MEMORY_USAGE_WARNING = 0.85
MEMORY_USAGE_CRITICAL = 0.95

_VOLUME = f"and {rec.HTTP_REQUEST_RATE.name} >= {MIN_REQUEST_RATE}"


def _error_rate(severity: Severity, threshold: float, hold: timedelta, window: str) -> AlertRule:
    return AlertRule(
        name="HighErrorRate",
        expr=f"{rec.HTTP_5XX_RATIO.name} > {threshold}\n{_VOLUME}",
        hold=hold,
        severity=severity,
        service="fanz-platform",
        summary=f"5xx error ratio above {threshold:.0%} on {{{{ $labels.platform }}}}",
        description=(
            "{{ $value | humanizePercentage }} of HTTP requests on {{ $labels.platform }} were answered "
            f"with a 5xx status over the last {window} (threshold {threshold:.0%})."
        ),
    )


def _pool(severity: Severity, threshold: float, hold: timedelta) -> AlertRule:
    return AlertRule(
        name="DatabaseConnectionPoolHigh",
        expr=f"{rec.DB_POOL_USAGE.name} > {threshold}",
        hold=hold,
        severity=severity,
        service="database",
        summary=f"Database pool {{{{ $labels.pool_name }}}} above {threshold:.0%} of its maximum",
        description=(
            "Pool {{ $labels.pool_name }} of {{ $labels.job }} on {{ $labels.platform }} "
            "({{ $labels.instance }}) uses {{ $value | humanizePercentage }} of its maximum connections."
        ),
    )


def _memory(severity: Severity, threshold: float, hold: timedelta) -> AlertRule:
    return AlertRule(
        name="HighMemoryUsage",
        expr=f"{rec.MEMORY_USAGE.name} > {threshold}",
        hold=hold,
        severity=severity,
        service="fanz-platform",
        summary=f"{{{{ $labels.job }}}} memory above {threshold:.0%} of its limit",
        description=(
            "{{ $labels.job }} on {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory limit."
        ),
    )


def service_alerts(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> tuple[AlertRule, ...]:
    """The service alerts; ``rate_window`` is the recorded series' window, named in descriptions."""
    window = human_duration(rate_window)
    return (
        _error_rate(Severity.CRITICAL, ERROR_RATIO_CRITICAL, timedelta(minutes=2), window),
        _error_rate(Severity.WARNING, ERROR_RATIO_WARNING, timedelta(minutes=5), window),
        AlertRule(
            name="HighResponseTime",
            expr=f"{rec.HTTP_P95.name} > {P95_SECONDS_WARNING:g}\n{_VOLUME}",
            hold=timedelta(minutes=5),
            severity=Severity.WARNING,
            service="fanz-platform",
            summary=f"p95 response time above {P95_SECONDS_WARNING:g}s on {{{{ $labels.platform }}}}",
            description=(
                "The 95th percentile of HTTP request duration on {{ $labels.platform }} is "
                f"{{{{ $value | humanizeDuration }}}} over the last {window}."
            ),
        ),
        _pool(Severity.CRITICAL, POOL_USAGE_CRITICAL, timedelta(minutes=1)),
        _pool(Severity.WARNING, POOL_USAGE_WARNING, timedelta(minutes=2)),
        _memory(Severity.CRITICAL, MEMORY_USAGE_CRITICAL, timedelta(minutes=2)),
        _memory(Severity.WARNING, MEMORY_USAGE_WARNING, timedelta(minutes=5)),
    )


def service_group(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> RuleGroup:
    return RuleGroup("fanzwatch.service", "service", service_alerts(rate_window))


SERVICE = service_group()
SERVICE_ALERTS = SERVICE.alerts()
