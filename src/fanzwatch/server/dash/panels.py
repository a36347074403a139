"""Running the neutral dashboard definitions against Prometheus: panel views for templates.

The definitions are the ones provisioning renders for Grafana
(``fanzwatch.provisioning.definitions.dashboards``), so FanzDash and Grafana show the
same queries. Every target of every panel runs concurrently over one time grid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from ...provisioning.dashboard import Dashboard, Panel, PanelKind
from .charts import chart, legend, panel_thresholds, series_lines, stat_color
from .errors import SourceError, SourceRejectedError
from .sources import PrometheusSource, Series
from .timerange import RangeError, TimeRange, resolve


@dataclass(frozen=True, slots=True)
class StatValue:
    label: str
    value: float | None
    color: str


@dataclass
class PanelView:
    """One panel, ready for the template: a chart, stat values, or why there is nothing."""

    panel: Panel
    index: int
    chart: dict[str, Any] | None = None
    stats: list[StatValue] = field(default_factory=list)
    error: str | None = None
    empty: bool = False
    queries: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.panel.kind.value


@dataclass(frozen=True, slots=True)
class Query:
    """What to run: a resolved expression and its legend template."""

    expr: str
    legend: str


async def run_queries(
    prom: PrometheusSource, queries: list[Query], rng: TimeRange
) -> list[tuple[str, Series]] | SourceError:
    """Every query over ``rng``; the first failure (in order) if any failed."""
    answers = await asyncio.gather(
        *(prom.query_range(q.expr, start=rng.start, end=rng.end, step=rng.step) for q in queries),
        return_exceptions=True,
    )
    out: list[tuple[str, Series]] = []
    for q, answer in zip(queries, answers, strict=True):
        if isinstance(answer, SourceError):
            return answer
        if isinstance(answer, BaseException):
            raise answer
        out.extend((q.legend, s) for s in answer)
    return out


async def panel_view(
    prom: PrometheusSource,
    panel: Panel,
    index: int,
    *,
    rng: TimeRange,
    platform: str | None,
    scrape_interval: float,
) -> PanelView:
    view = PanelView(panel=panel, index=index)
    try:
        queries = [
            Query(resolve(t.expr, platform=platform, rng=rng, scrape_interval=scrape_interval), t.legend)
            for t in panel.targets
        ]
    except RangeError as exc:
        view.error = str(exc)
        return view
    view.queries = [q.expr for q in queries]
    answer = await run_queries(prom, queries, rng)
    if isinstance(answer, SourceError):
        view.error = str(answer)
        if isinstance(answer, SourceRejectedError):
            view.error += " — the dashboard definition may not match this Prometheus"
        return view
    if not answer:
        view.empty = True
        return view
    if panel.kind is PanelKind.STAT:
        for tpl, s in answer:
            value = s.last()
            view.stats.append(StatValue(legend(tpl, s.labels), value, stat_color(panel, value)))
    view.chart = chart(
        panel.title,
        panel.unit.value,
        series_lines(answer),
        kind="spark" if panel.kind is PanelKind.STAT else "line",
        thresholds=panel_thresholds(panel),
        y_min=panel.min,
        y_max=panel.max,
        x_range=(rng.start, rng.end),
    )
    return view


async def dashboard_views(
    prom: PrometheusSource, dash: Dashboard, *, rng: TimeRange, platform: str | None, scrape_interval: float
) -> list[tuple[str, list[PanelView]]]:
    """(row title, panel views) for every row of ``dash``."""
    jobs: list[Coroutine[Any, Any, PanelView]] = []
    for row in dash.rows:
        for panel in row.panels:
            jobs.append(panel_view(prom, panel, len(jobs), rng=rng, platform=platform, scrape_interval=scrape_interval))
    views = iter(await asyncio.gather(*jobs))
    return [(row.title, [next(views) for _ in row.panels]) for row in dash.rows]
