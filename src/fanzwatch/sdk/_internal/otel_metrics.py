"""Optional OTLP metrics push: the same catalog instruments, mirrored into the OTel SDK.

Prometheus scraping stays the primary path. When an OTLP metrics endpoint is
configured (or a test passes a metric reader), every value recorded into a
prometheus_client instrument is also recorded into an OpenTelemetry instrument of
the same name, unit, description and bucket boundaries, and collect-time gauges
(active users, DB pools) become observable gauges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from opentelemetry.metrics import CallbackOptions, Counter, Histogram, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricReader, MetricsData
from opentelemetry.sdk.resources import Resource

from ...core import MetricKind, MetricSpec
from .instruments import RECORDED_SPECS

logger = logging.getLogger("fanzwatch.sdk")
_UNITS = {"seconds": "s", "bytes": "By", "connections": "{connection}", "users": "{user}"}

GaugeReader = Callable[[], Iterable[tuple[float, dict[str, str]]]]


class OtelMirror:
    """OTel instruments mirroring the SDK's prometheus_client ones."""

    def __init__(self, provider: MeterProvider) -> None:
        self.provider = provider
        self._meter = provider.get_meter("fanzwatch.sdk")
        self._counters: dict[str, Counter] = {}
        self._histograms: dict[str, Histogram] = {}
        for spec in RECORDED_SPECS:
            unit = _UNITS.get(spec.unit, f"{{{spec.unit.replace(' ', '_')}}}")
            if spec.kind is MetricKind.COUNTER:
                self._counters[spec.name] = self._meter.create_counter(spec.name, unit=unit, description=spec.help)
            elif spec.kind is MetricKind.HISTOGRAM:
                self._histograms[spec.name] = self._meter.create_histogram(
                    spec.name,
                    unit=unit,
                    description=spec.help,
                    explicit_bucket_boundaries_advisory=list(spec.buckets or ()),
                )

    def add(self, name: str, value: float, attributes: dict[str, str]) -> None:
        self._counters[name].add(value, attributes)

    def record(self, name: str, value: float, attributes: dict[str, str]) -> None:
        self._histograms[name].record(value, attributes)

    def observe_gauge(self, spec: MetricSpec, read: GaugeReader) -> None:
        """Report ``spec`` as an observable gauge whose values ``read`` returns at export time."""

        def callback(_options: CallbackOptions) -> Iterable[Observation]:
            try:
                return [Observation(value, attrs) for value, attrs in read()]
            except Exception:
                logger.exception("reading %s for OTLP export failed", spec.name)
                return []

        self._meter.create_observable_gauge(
            spec.name, callbacks=[callback], unit=_UNITS.get(spec.unit, "1"), description=spec.help
        )

    def shutdown(self) -> None:
        self.provider.shutdown()


class GuardedMetricExporter(MetricExporter):
    """Wraps an exporter so a failure is logged and counted, never raised into the host."""

    def __init__(self, inner: MetricExporter, on_failure: Callable[[str], None]) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._on_failure = on_failure

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object) -> MetricExportResult:
        try:
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception:
            logger.exception("OTLP metrics export raised")
            result = MetricExportResult.FAILURE
        if result is not MetricExportResult.SUCCESS:
            self._on_failure("otlp_metrics_export")
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)


def build_mirror(resource: Resource, readers: Sequence[MetricReader]) -> OtelMirror:
    """A mirror on a private MeterProvider (never the global one) reading into ``readers``."""
    return OtelMirror(MeterProvider(resource=resource, metric_readers=list(readers)))
