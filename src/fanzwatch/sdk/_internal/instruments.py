"""Prometheus instruments built from catalog specs, and the label bounding they share.

Every metric the SDK records is created here from its :class:`~fanzwatch.core.MetricSpec`
(name, kind, help, label names, buckets), so code can never invent a metric or a
label the catalog does not know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from ...core import CATALOG, LabelError, MetricKind, MetricSpec
from ...core.catalog import business, http, runtime
from ...core.platforms import OTHER_PLATFORM

# The specs the SDK records itself (counters and histograms, written on the hot path).
RECORDED_SPECS: tuple[MetricSpec, ...] = (
    business.USER_REGISTRATIONS,
    business.CONTENT_UPLOADS,
    business.PAYMENT_TRANSACTIONS,
    business.REVENUE,
    business.FAILED_PAYMENTS_VALUE,
    business.SUBSCRIPTION_RENEWALS,
    business.CREATOR_PAYOUTS,
    http.HTTP_SERVER_REQUEST_DURATION,
    runtime.ERRORS,
    runtime.TELEMETRY_FAILURES,
)
# Values a free-text label is cut to, so a bug cannot push megabytes into a label.
MAX_LABEL_LENGTH = 64
_FALLBACKS = ("OTHER", "_OTHER", "other")


def build_prometheus_metric(
    spec: MetricSpec, registry: CollectorRegistry | None, *, multiprocess_mode: str = "livesum"
) -> MetricWrapperBase:
    """A prometheus_client metric exactly as the catalog describes it.

    ``multiprocess_mode`` applies to gauges only (how worker values combine in
    prometheus_client multiprocess mode).
    """
    if CATALOG.get(spec.name) is not spec:
        raise LabelError(spec.name, "not the catalog's spec for this name; build instruments from CATALOG only")
    names = spec.label_names
    if spec.kind is MetricKind.COUNTER:
        return Counter(spec.name, spec.help, names, registry=registry)
    if spec.kind is MetricKind.GAUGE:
        return Gauge(spec.name, spec.help, names, registry=registry, multiprocess_mode=multiprocess_mode)  # type: ignore[arg-type]
    assert spec.buckets is not None  # MetricSpec guarantees buckets for histograms
    return Histogram(spec.name, spec.help, names, registry=registry, buckets=spec.buckets)


@dataclass(frozen=True, slots=True)
class _LabelRule:
    name: str
    allowed: frozenset[str] | None
    fallback: str | None  # None: a value outside ``allowed`` is an error
    closed: bool


class LabelBounds:
    """Maps label values of one metric into the catalog's bounded sets.

    * ``platform``: a configured platform, else ``other``;
    * a label whose allowed values include ``OTHER``/``_OTHER``/``other``: unknown
      values become that fallback (currencies, HTTP methods);
    * any other enumerated label (role, status, ...) is a closed domain: an unknown
      value is a programming error and raises :class:`LabelError` with the allowed set;
    * free labels (bounded by code, e.g. ``error_type``) are cut to 64 characters.
    """

    def __init__(self, spec: MetricSpec, platforms: Iterable[str]) -> None:
        self.spec = spec
        rules = []
        for label in spec.labels:
            if label.name == "platform":
                rules.append(_LabelRule("platform", frozenset(platforms) | {OTHER_PLATFORM}, OTHER_PLATFORM, False))
            elif label.values is None:
                rules.append(_LabelRule(label.name, None, None, False))
            else:
                fallback = next((f for f in _FALLBACKS if f in label.values), None)
                rules.append(_LabelRule(label.name, frozenset(label.values), fallback, fallback is None))
        self._rules = {r.name: r for r in rules}

    def bound(self, name: str, value: object) -> str:
        """The label value to record for ``value``."""
        rule = self._rules[name]
        text = value if isinstance(value, str) else str(value)
        if rule.allowed is None:
            return text[:MAX_LABEL_LENGTH] or "unknown"
        if text in rule.allowed:
            return text
        if rule.closed:
            allowed = ", ".join(sorted(rule.allowed))
            raise LabelError(self.spec.name, f"{name}={text[:MAX_LABEL_LENGTH]!r} is not one of: {allowed}")
        assert rule.fallback is not None
        return rule.fallback


class SdkInstruments:
    """The SDK's recorded instruments (``RECORDED_SPECS``) in one registry, with their label bounds."""

    def __init__(self, registry: CollectorRegistry | None, platforms: Iterable[str]) -> None:
        allowed = tuple(platforms)
        self.registry = registry
        self.metrics: dict[str, MetricWrapperBase] = {
            s.name: build_prometheus_metric(s, registry) for s in RECORDED_SPECS
        }
        self.bounds: dict[str, LabelBounds] = {s.name: LabelBounds(s, allowed) for s in RECORDED_SPECS}

    def counter(self, name: str) -> Counter:
        metric = self.metrics[name]
        assert isinstance(metric, Counter)
        return metric

    def histogram(self, name: str) -> Histogram:
        metric = self.metrics[name]
        assert isinstance(metric, Histogram)
        return metric
