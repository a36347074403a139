"""The RUM metrics, built from the catalog into a registry the server passes in.

Label children are cached per label tuple: the label sets are bounded (platforms,
templates, device classes, fingerprints), so the caches are too, and the hot path
skips prometheus_client's label validation after the first observation.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ..core.catalog import MetricKind, MetricSpec
from ..core.catalog import rum as catalog

OTHER = "other"


def _histogram(spec: MetricSpec, registry: CollectorRegistry) -> Histogram:
    if spec.kind is not MetricKind.HISTOGRAM or spec.buckets is None:
        raise ValueError(f"{spec.name} is not a histogram in the catalog")
    return Histogram(spec.name, spec.help, list(spec.label_names), registry=registry, buckets=spec.buckets)


def _counter(spec: MetricSpec, registry: CollectorRegistry) -> Counter:
    if spec.kind is not MetricKind.COUNTER:
        raise ValueError(f"{spec.name} is not a counter in the catalog")
    return Counter(spec.name, spec.help, list(spec.label_names), registry=registry)


def _gauge(spec: MetricSpec, registry: CollectorRegistry) -> Gauge:
    if spec.kind is not MetricKind.GAUGE:
        raise ValueError(f"{spec.name} is not a gauge in the catalog")
    return Gauge(spec.name, spec.help, list(spec.label_names), registry=registry)


class ErrorFingerprints:
    """The first ``limit`` distinct fingerprints keep their own label; the rest share ``other``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def __len__(self) -> int:
        return len(self._seen)

    def bound(self, fingerprint: str) -> str:
        if fingerprint in self._seen:
            return fingerprint
        if len(self._seen) >= self.limit:
            return OTHER
        self._seen.add(fingerprint)
        return fingerprint


class RumMetrics:
    """Every RUM metric of one server, registered in ``registry``.

    >>> m = RumMetrics(CollectorRegistry(), max_error_fingerprints=100)
    >>> m.observe_vital("LCP", 1.2, "fanz-1", "/", "desktop")
    """

    def __init__(self, registry: CollectorRegistry, *, max_error_fingerprints: int) -> None:
        self.registry = registry
        self._histograms = {name: _histogram(spec, registry) for name, spec in catalog.VITAL_METRICS.items()}
        self._histograms["page_load"] = _histogram(catalog.RUM_PAGE_LOAD, registry)
        self._errors = _counter(catalog.RUM_JS_ERRORS, registry)
        self._interactions = _counter(catalog.RUM_INTERACTIONS, registry)
        self._beacons = _counter(catalog.RUM_BEACONS, registry)
        self._events = _counter(catalog.RUM_EVENTS, registry)
        self._queued = _gauge(catalog.RUM_QUEUED_EVENTS, registry)
        self._stored = _counter(catalog.RUM_STORED_EVENTS, registry)
        self._store_errors = _counter(catalog.RUM_STORE_ERRORS, registry)
        self._lost = _counter(catalog.RUM_LOST_EVENTS, registry)
        self._dead = _counter(catalog.RUM_DEAD_LETTER_EVENTS, registry)
        self.fingerprints = ErrorFingerprints(max_error_fingerprints)
        self._hist_children: dict[tuple[str, str, str, str], Histogram] = {}
        self._counter_children: dict[tuple[object, ...], Counter] = {}
        self._gauge_children: dict[str, Gauge] = {}

    def _hist(self, name: str, platform: str, template: str, device: str) -> Histogram:
        key = (name, platform, template, device)
        child = self._hist_children.get(key)
        if child is None:
            child = self._hist_children[key] = self._histograms[name].labels(platform, template, device)
        return child

    def _child(self, metric: Counter, *labels: str) -> Counter:
        key = (id(metric), *labels)
        child = self._counter_children.get(key)
        if child is None:
            child = self._counter_children[key] = metric.labels(*labels)
        return child

    def observe_vital(self, name: str, value: float, platform: str, template: str, device: str) -> None:
        """``value`` in seconds (CLS unitless)."""
        self._hist(name, platform, template, device).observe(value)

    def observe_page_load(self, seconds: float, platform: str, template: str, device: str) -> None:
        self._hist("page_load", platform, template, device).observe(seconds)

    def count_error(self, platform: str, kind: str, fingerprint: str) -> None:
        self._child(self._errors, platform, kind, self.fingerprints.bound(fingerprint)).inc()

    def count_interaction(self, platform: str, template: str, kind: str) -> None:
        self._child(self._interactions, platform, template, kind).inc()

    def count_beacon(self, platform: str, endpoint: str, outcome: str) -> None:
        self._child(self._beacons, platform, endpoint, outcome).inc()

    def count_events(self, platform: str, event_type: str, n: int) -> None:
        self._child(self._events, platform, event_type).inc(n)

    def queued(self, platform: str, delta: int) -> None:
        child = self._gauge_children.get(platform)
        if child is None:
            child = self._gauge_children[platform] = self._queued.labels(platform)
        child.inc(delta)

    def stored(self, platform: str, n: int) -> None:
        self._child(self._stored, platform).inc(n)

    def store_failed(self, platform: str, n: int) -> None:
        self._child(self._store_errors, platform).inc(n)

    def lost(self, platform: str, n: int) -> None:
        self._child(self._lost, platform).inc(n)

    def dead_lettered(self, platform: str, n: int) -> None:
        self._child(self._dead, platform).inc(n)
