"""Key KPIs as Prometheus gauges, per platform, from the same SQL as the reports.

``BiMetricsCollector`` is a custom collector: register it on the registry the server
exposes. It recomputes at most every ``ttl`` seconds (one batched pass over all
platforms, from rollups) and otherwise serves the last values, so a scrape never waits
for the database more than once per ``ttl``. A failing database is logged and the
scrape simply lacks these series (telemetry never breaks the host).

>>> registry.register(BiMetricsCollector(service, window=timedelta(minutes=15), ttl=60))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..core.catalog import bi as spec
from ..core.catalog._spec import MetricSpec
from ._platform_kpis import PlatformKpis
from .service import BiService, RollupGenerationWatch

logger = logging.getLogger(__name__)


def _gauge(metric: MetricSpec) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.name, metric.help, labels=list(metric.label_names))


class BiMetricsCollector(Collector):
    """Exports ``fanz_bi_*`` gauges (see ``fanzwatch.core.catalog.bi``)."""

    def __init__(self, service: BiService, *, window: timedelta, ttl: float) -> None:
        self._service = service
        self._window = window
        self._ttl = ttl
        self._lock = threading.Lock()
        self._values: dict[str, PlatformKpis] | None = None
        self._computed_at: float | None = None
        self._generation = 0  # bumped by invalidate(): values computed across it are not kept as fresh
        self._rollups = RollupGenerationWatch()  # the database's rollup generation (any process's refresh)

    def describe(self) -> Iterator[Metric]:
        # Families without samples: lets registry.register() check names without a query.
        for metric in spec.METRICS:
            yield _gauge(metric)

    def refresh(self) -> None:
        """Recompute now (the runner may call this after each rollup refresh)."""
        with self._lock:
            generation = self._generation
        values = self._service.platform_kpis(self._window)
        with self._lock:
            self._values = values
            # invalidated while computing: serve these now, recompute on the next scrape
            self._computed_at = self._service.clock.monotonic() if generation == self._generation else None

    def invalidate(self) -> None:
        """Make the next scrape recompute (called after every rollup refresh and rebuild)."""
        with self._lock:
            self._generation += 1
            self._computed_at = None

    def _follow_rollups(self) -> None:
        if self._rollups.moved(self._service.rollup_generation()):
            self.invalidate()

    def _current(self) -> dict[str, PlatformKpis] | None:
        self._follow_rollups()
        now = self._service.clock.monotonic()
        with self._lock:
            fresh = self._computed_at is not None and now - self._computed_at < self._ttl
        if not fresh:
            try:
                self.refresh()
            except Exception:
                logger.exception("bi metrics: computing KPIs failed; serving the previous values")
        with self._lock:
            return self._values

    def collect(self) -> Iterator[Metric]:
        values = self._current()
        if values is None:
            return
        minutes = Decimal(int(self._window.total_seconds())) / 60
        hours = minutes / 60
        families = {m.name: _gauge(m) for m in spec.METRICS}
        for platform, k in sorted(values.items()):
            for currency, amount in sorted(k.revenue.items()):
                families[spec.REVENUE_PER_MINUTE.name].add_metric([platform, currency], float(amount / minutes))
            if k.attempts:
                families[spec.PAYMENT_SUCCESS_RATIO.name].add_metric([platform], k.succeeded / k.attempts)
            families[spec.PAYMENT_ATTEMPTS_PER_MINUTE.name].add_metric([platform], float(k.attempts / minutes))
            for currency, amount in sorted(k.mrr.items()):
                families[spec.MRR.name].add_metric([platform, currency], float(amount))
            families[spec.ACTIVE_SUBSCRIPTIONS.name].add_metric([platform], k.active_subscriptions)
            families[spec.DAILY_ACTIVE_USERS.name].add_metric([platform], k.dau)
            families[spec.MONTHLY_ACTIVE_USERS.name].add_metric([platform], k.mau)
            for role in ("fan", "creator"):
                rate = float(k.signups.get(role, 0) / hours)
                families[spec.SIGNUPS_PER_HOUR.name].add_metric([platform, role], rate)
            for status in ("refunded", "chargeback"):
                rate = float(k.reversals.get(status, 0) / hours)
                families[spec.REVERSALS_PER_HOUR.name].add_metric([platform, status], rate)
        yield from families.values()
