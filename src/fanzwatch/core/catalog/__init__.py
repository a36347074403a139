"""The metric catalog: every metric of the system, the one source of truth.

Each domain keeps its metrics in its own module (``http``, ``business``, ...) as a
``METRICS`` tuple; this module assembles them and answers questions about them.

>>> CATALOG["fanz_payment_transactions"].label_names
('platform', 'payment_type', 'currency', 'status')
>>> CATALOG.family_of("http_server_request_duration_seconds_bucket").name
'http_server_request_duration_seconds'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..errors import UnknownMetricError
from . import (
    alerting,
    anomaly,
    bi,
    business,
    external,
    health,
    http,
    impact,
    otlp,
    probes,
    recording,
    rum,
    runtime,
    slo,
)
from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source


class Catalog(Mapping[str, MetricSpec]):
    """An immutable, validated set of metric specs keyed by family name."""

    def __init__(self, specs: tuple[MetricSpec, ...]) -> None:
        by_name: dict[str, MetricSpec] = {}
        for spec in specs:
            if spec.name in by_name:
                raise ValueError(f"metric {spec.name} is defined twice in the catalog")
            by_name[spec.name] = spec
        self._by_name = by_name
        self._by_series = {s: spec for spec in specs for s in spec.series()}

    def __getitem__(self, name: str) -> MetricSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownMetricError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def family_of(self, series: str) -> MetricSpec:
        """The spec a sample name (``x_total``, ``x_bucket``, ``x``) belongs to."""
        try:
            return self._by_series[series]
        except KeyError:
            raise UnknownMetricError(series) from None

    def knows_series(self, series: str) -> bool:
        return series in self._by_series


CATALOG = Catalog(
    business.METRICS
    + http.METRICS
    + runtime.METRICS
    + external.METRICS
    + health.METRICS
    + rum.METRICS
    + anomaly.METRICS
    + bi.METRICS
    + alerting.METRICS
    + impact.METRICS
    + recording.METRICS
    + slo.METRICS
    + probes.METRICS
    + otlp.METRICS
)

__all__ = ["CATALOG", "PLATFORM", "Catalog", "Label", "MetricKind", "MetricSpec", "Source"]
