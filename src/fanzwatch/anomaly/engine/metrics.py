"""The engine's own Prometheus metrics, built from the catalog on the registry it is given."""

from __future__ import annotations

import contextlib
import math

from prometheus_client import CollectorRegistry, Counter, Gauge

from ...core.catalog import anomaly as spec
from ...core.catalog._spec import MetricSpec
from .series import SeriesKey, SeriesState

SERIES_STATES = spec.SERIES_STATES


def _gauge(m: MetricSpec, registry: CollectorRegistry) -> Gauge:
    return Gauge(m.name, m.help, labelnames=m.label_names, registry=registry)


def _counter(m: MetricSpec, registry: CollectorRegistry) -> Counter:
    return Counter(m.name, m.help, labelnames=m.label_names, registry=registry)


class EngineMetrics:
    """Score, band, activity and lag per watched series; up, state and failures of the engine."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.score = _gauge(spec.ANOMALY_SCORE, registry)
        self.lower = _gauge(spec.ANOMALY_EXPECTED_LOWER, registry)
        self.upper = _gauge(spec.ANOMALY_EXPECTED_UPPER, registry)
        self.active = _gauge(spec.ANOMALY_ACTIVE, registry)
        self.lag = _gauge(spec.ANOMALY_LAG, registry)
        self.up = _gauge(spec.ENGINE_UP, registry)
        self.state = _gauge(spec.ENGINE_STATE, registry)
        self.query_failures = _counter(spec.QUERY_FAILURES, registry)
        self.post_failures = _counter(spec.ALERT_POST_FAILURES, registry)
        self.posted = _counter(spec.ALERTS_POSTED, registry)
        self.stale = _gauge(spec.SERIES_STALE, registry)
        self.series = _gauge(spec.SERIES_BY_STATE, registry)
        self.last_evaluation = _gauge(spec.LAST_EVALUATION, registry)
        self.clock_offset = _gauge(spec.CLOCK_OFFSET, registry)
        self._per_series = (self.score, self.lower, self.upper, self.active, self.lag)
        self.set_state("unknown")

    def set_state(self, state: str) -> None:
        for s in spec.ENGINE_STATES:
            self.state.labels(state=s).set(1.0 if s == state else 0.0)
        self.up.set(1.0 if state in ("pass", "warn") else 0.0)

    def observe_series(self, state: SeriesState, now: float) -> None:
        latest = state.window.latest()
        labels = {"metric": state.signal.key, "platform": state.platform}
        for gauge, field in ((self.score, "score"), (self.lower, "lower"), (self.upper, "upper")):
            value = latest[field]
            gauge.labels(**labels).set(math.nan if value is None else float(value))
        self.active.labels(**labels).set(1.0 if state.episodes.current is not None else 0.0)
        if math.isfinite(state.last_timestamp):
            self.lag.labels(**labels).set(max(0.0, now - state.last_timestamp))

    def set_series_counts(self, counts: dict[str, int]) -> None:
        for state in spec.SERIES_STATES:
            self.series.labels(state=state).set(float(counts.get(state, 0)))

    def forget_series(self, key: SeriesKey, *, gone: bool = False) -> None:
        """Drop the per-series values of a stale series (``gone``: its staleness flag too)."""
        for gauge in (*self._per_series, self.stale) if gone else self._per_series:
            with contextlib.suppress(KeyError):  # never set for this series
                gauge.remove(*key)
