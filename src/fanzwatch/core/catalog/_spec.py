"""What one catalog entry is: a metric's name, type, unit, labels, help, buckets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MetricKind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


class Source(StrEnum):
    """Who emits the metric."""

    SDK = "sdk"  # FANZ services, through fanzwatch.sdk
    SERVER = "server"  # the fanzwatch server itself
    PROMETHEUS = "prometheus"  # synthesised by Prometheus (``up``) or recording rules
    EXTERNAL = "external"  # exporters we scrape (node_exporter, process collector, blackbox_exporter)
    PROBER = "prober"  # fanzwatch's journey prober (``fanzwatch probe``)


@dataclass(frozen=True, slots=True)
class Label:
    """A label and, where the set is known, its allowed values.

    ``values=None`` means bounded by code or configuration (documented in ``doc``),
    never by user input.
    """

    name: str
    doc: str
    values: tuple[str, ...] | None = None


PLATFORM = Label("platform", "one of the configured FANZ platforms, or 'other'")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric of the system.

    ``name`` is the exposed Prometheus family name without the ``_total`` suffix
    for counters (as prometheus_client names families); ``series()`` lists the
    sample names a PromQL expression may use.
    """

    name: str
    kind: MetricKind
    unit: str
    help: str
    labels: tuple[Label, ...]
    source: Source = Source.SDK
    buckets: tuple[float, ...] | None = None
    guide_name: str | None = None
    guide_note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind is MetricKind.HISTOGRAM and not self.buckets:
            raise ValueError(f"histogram {self.name} needs buckets")
        if self.kind is not MetricKind.HISTOGRAM and self.buckets:
            raise ValueError(f"{self.name}: only histograms have buckets")
        if self.name.endswith("_total"):
            raise ValueError(f"{self.name}: name counters without _total; it is added on export")
        names = [label.name for label in self.labels]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate label names")

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def series(self) -> tuple[str, ...]:
        """Every sample name this metric exposes."""
        if self.kind is MetricKind.COUNTER:
            return (f"{self.name}_total", f"{self.name}_created")
        if self.kind is MetricKind.HISTOGRAM:
            return tuple(f"{self.name}{s}" for s in ("_bucket", "_sum", "_count", "_created"))
        return (self.name,)
