"""Dashboards as neutral definitions: FanzDash and Grafana draw the same ones.

A :class:`Dashboard` is rows of panels; a panel is a title, a kind (time series or
single stat), a unit, PromQL targets with legends, and optional thresholds. Nothing
here is Grafana-specific: ``grafana.py`` is one renderer, FanzDash another.

Expressions are plain PromQL over catalog names with one convention: the
``$platform`` variable stands for the selected platforms as a regular expression,
always used as ``platform=~"$platform"``. :meth:`Target.resolve` substitutes it, so any
renderer can run the query against the Prometheus HTTP API.

>>> t = Target('sum(rate(fanz_revenue_total{platform=~"$platform"}[5m]))', legend="revenue")
>>> t.resolve(("fanz-1", "fanz-2"))
'sum(rate(fanz_revenue_total{platform=~"fanz-1|fanz-2"}[5m]))'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from ..core.platforms import PLATFORM_SLUG

PLATFORM_VARIABLE = "$platform"


class PanelKind(StrEnum):
    TIMESERIES = "timeseries"
    STAT = "stat"


class Unit(StrEnum):
    """What a panel's values measure; each renderer picks its own formatting."""

    REQUESTS_PER_SECOND = "requests_per_second"
    EVENTS_PER_SECOND = "events_per_second"
    SECONDS = "seconds"
    RATIO = "ratio"  # 0-1, shown as a percentage
    BYTES = "bytes"
    COUNT = "count"
    CURRENCY = "currency"  # major units of the series' own currency label


class Color(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True, slots=True)
class Step:
    """From ``value`` upwards the panel shows ``color``."""

    value: float
    color: Color


@dataclass(frozen=True, slots=True)
class Thresholds:
    """``base`` colour below the first step, then each step's colour from its value up."""

    base: Color
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        values = [s.value for s in self.steps]
        if values != sorted(values) or len(set(values)) != len(values):
            raise ValueError("threshold steps must be strictly increasing")


@dataclass(frozen=True, slots=True)
class Target:
    """One query of a panel. ``legend`` may use ``{{label}}`` placeholders."""

    expr: str
    legend: str = ""

    def resolve(self, platforms: tuple[str, ...] | None = None) -> str:
        """The expression with ``$platform`` replaced (``None`` = all platforms).

        Platform slugs (``[a-z0-9-]``) hold no regex or string metacharacters, so they
        go into the matcher as they are; anything else is refused.
        """
        if not platforms:
            return self.expr.replace(PLATFORM_VARIABLE, ".+")
        bad = [p for p in platforms if not PLATFORM_SLUG.match(p)]
        if bad:
            raise ValueError(f"not platform slugs: {bad}")
        return self.expr.replace(PLATFORM_VARIABLE, "|".join(platforms))


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart. ``span`` is its width on a 24-column grid."""

    title: str
    kind: PanelKind
    unit: Unit
    targets: tuple[Target, ...]
    description: str = ""
    thresholds: Thresholds | None = None
    min: float | None = None
    max: float | None = None
    span: int = 12

    def __post_init__(self) -> None:
        if not self.targets:
            raise ValueError(f"panel {self.title!r} has no targets")
        if not 1 <= self.span <= 24:
            raise ValueError(f"panel {self.title!r}: span must be 1-24")


@dataclass(frozen=True, slots=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True, slots=True)
class PlatformVariable:
    """The ``$platform`` selector: the values of ``label`` on ``series``."""

    series: str
    label: str = "platform"


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A dashboard: ``uid`` is stable (links and provisioning rely on it)."""

    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    rows: tuple[Row, ...]
    platform_variable: PlatformVariable | None = None
    refresh: str = "30s"
    time_from: str = "now-6h"

    def __post_init__(self) -> None:
        if not re.match(r"^[a-z0-9-]{1,40}$", self.uid):
            raise ValueError(f"dashboard uid {self.uid!r}: lowercase letters, digits and -, at most 40")

    def panels(self) -> Iterator[Panel]:
        for row in self.rows:
            yield from row.panels

    def targets(self) -> Iterator[tuple[Panel, Target]]:
        for panel in self.panels():
            for target in panel.targets:
                yield panel, target
