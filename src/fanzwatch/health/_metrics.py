"""The health metrics of the catalog, recorded into a registry the caller passes in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, Histogram

from ..core.catalog.health import (
    HEALTH_CHECK_CRITICAL,
    HEALTH_CHECK_DURATION,
    HEALTH_CHECK_LAST_SUCCESS,
    HEALTH_CHECK_STATUS,
    HEALTH_STATUSES,
)
from ..core.errors import ConfigError
from ..core.models import HealthStatus
from ..core.platforms import OTHER_PLATFORM, PLATFORM_SLUG
from ._check import CheckReport


class HealthMetrics:
    """``fanz_health_check_*`` for one runner.

    The status is a state set: for each check, the current status's series is 1 and the
    other two are 0, so an alert is ``fanz_health_check_status{status="fail"} == 1`` and
    a dashboard can count checks per status. The status is the check's own (a
    non-critical check that fails shows ``fail``); ``fanz_health_check_critical`` says
    whether that failure fails the service.
    """

    def __init__(self, registry: CollectorRegistry, *, platform: str = OTHER_PLATFORM) -> None:
        if platform != OTHER_PLATFORM and not PLATFORM_SLUG.match(platform):
            raise ConfigError(f"invalid platform {platform!r} for health metrics", setting="health.platform")
        self._platform = platform
        self._status = Gauge(
            HEALTH_CHECK_STATUS.name,
            HEALTH_CHECK_STATUS.help,
            HEALTH_CHECK_STATUS.label_names,
            registry=registry,
        )
        self._critical = Gauge(
            HEALTH_CHECK_CRITICAL.name,
            HEALTH_CHECK_CRITICAL.help,
            HEALTH_CHECK_CRITICAL.label_names,
            registry=registry,
        )
        self._duration = Histogram(
            HEALTH_CHECK_DURATION.name,
            HEALTH_CHECK_DURATION.help,
            HEALTH_CHECK_DURATION.label_names,
            buckets=HEALTH_CHECK_DURATION.buckets or Histogram.DEFAULT_BUCKETS,
            registry=registry,
        )
        self._last_success = Gauge(
            HEALTH_CHECK_LAST_SUCCESS.name,
            HEALTH_CHECK_LAST_SUCCESS.help,
            HEALTH_CHECK_LAST_SUCCESS.label_names,
            registry=registry,
        )

    def declare(self, name: str, *, critical: bool) -> None:
        """Announce a check before its first run (its critical flag is known already)."""
        self._critical.labels(self._platform, name).set(1 if critical else 0)

    def record(self, report: CheckReport) -> None:
        """Record one finished run."""
        for status in HEALTH_STATUSES:
            value = 1 if status == report.status.value else 0
            self._status.labels(self._platform, report.name, status).set(value)
        self._duration.labels(self._platform, report.name).observe(report.duration)
        if report.status is not HealthStatus.FAIL:
            self._last_success.labels(self._platform, report.name).set(report.time.timestamp())
