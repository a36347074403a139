"""The alerting metrics of the catalog, recorded into the registry the server passes in."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..core.catalog import alerting as spec
from ..core.catalog._spec import MetricSpec
from ..core.models import Priority
from ..core.platforms import OTHER_PLATFORM, bound_platform


def _counter(m: MetricSpec, registry: CollectorRegistry) -> Counter:
    return Counter(m.name, m.help, labelnames=m.label_names, registry=registry)


def _gauge(m: MetricSpec, registry: CollectorRegistry) -> Gauge:
    return Gauge(m.name, m.help, labelnames=m.label_names, registry=registry)


class AlertingMetrics:
    """``fanz_alerting_*``. Platform values are bounded to the configured platforms or ``other``."""

    def __init__(self, registry: CollectorRegistry, platforms: Iterable[str]) -> None:
        self._platforms = frozenset(platforms)
        self.incidents_open = _gauge(spec.INCIDENTS_OPEN, registry)
        self.time_to_ack = Histogram(
            spec.TIME_TO_ACKNOWLEDGE.name,
            spec.TIME_TO_ACKNOWLEDGE.help,
            labelnames=spec.TIME_TO_ACKNOWLEDGE.label_names,
            buckets=spec.TIME_TO_ACKNOWLEDGE.buckets or Histogram.DEFAULT_BUCKETS,
            registry=registry,
        )
        self.sent = _counter(spec.NOTIFICATIONS_SENT, registry)
        self.failed = _counter(spec.NOTIFICATIONS_FAILED, registry)
        self.retries = _counter(spec.NOTIFICATION_RETRIES, registry)
        self.outbox_pending = _gauge(spec.OUTBOX_PENDING, registry)
        self.remediations_run = _counter(spec.REMEDIATIONS_RUN, registry)
        self.remediations_refused = _counter(spec.REMEDIATIONS_REFUSED, registry)
        self.verifications = _counter(spec.REMEDIATION_VERIFICATIONS, registry)
        self.gave_up = _counter(spec.REMEDIATIONS_GAVE_UP, registry)
        self.webhook_payloads = _counter(spec.WEBHOOK_PAYLOADS, registry)
        self.webhook_alerts = _counter(spec.WEBHOOK_ALERTS, registry)

    def platform(self, value: str | None) -> str:
        return bound_platform(value, self._platforms)

    def set_open_incidents(self, counts: dict[tuple[str, str], int]) -> None:
        """Set every (platform, priority) series, zero where nothing is open."""
        for platform in (*sorted(self._platforms), OTHER_PLATFORM):
            for priority in Priority:
                self.incidents_open.labels(platform, priority.value).set(counts.get((platform, priority.value), 0))

    def set_outbox_pending(self, counts: dict[tuple[str, str], int], channels: Iterable[str]) -> None:
        seen = set(counts)
        for (platform, channel), n in counts.items():
            self.outbox_pending.labels(platform, channel).set(n)
        for platform in (*sorted(self._platforms), OTHER_PLATFORM):
            for channel in channels:
                if (platform, channel) not in seen:
                    self.outbox_pending.labels(platform, channel).set(0)

    def webhook_rejected(self, reason: str) -> None:
        self.webhook_payloads.labels(OTHER_PLATFORM, reason).inc()
