"""RUM page: p75 of each web vital per page against the good/poor thresholds, trends, JS errors.

The p75 table comes from the RUM event store (exact nearest-rank percentiles of the
stored page views); the trends from the RUM histograms in Prometheus, whose buckets
include the thresholds.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...core.catalog import rum as rum_catalog
from ...rum.store import ErrorSummary, VitalP75
from .charts import chart
from .context import DashContext, Section, attempt
from .errors import SourceError, not_configured
from .pickers import read_picks
from .sources import PrometheusSource
from .timerange import RANGE_SECONDS, TimeRange, resolve

RUM_RANGES = ("1h", "6h", "24h", "7d")
VITALS: dict[str, tuple[str, str, str]] = {
    # name: (histogram, unit, what it measures)
    "LCP": (rum_catalog.RUM_LCP.name, "seconds", "Largest Contentful Paint: loading"),
    "INP": (rum_catalog.RUM_INP.name, "seconds", "Interaction to Next Paint: responsiveness"),
    "CLS": (rum_catalog.RUM_CLS.name, "score", "Cumulative Layout Shift: visual stability"),
    "FCP": (rum_catalog.RUM_FCP.name, "seconds", "First Contentful Paint"),
    "TTFB": (rum_catalog.RUM_TTFB.name, "seconds", "Time to First Byte"),
}
assert set(VITALS) == set(rum_catalog.VITAL_THRESHOLDS)


def rating(name: str, value: float) -> str:
    good, poor = rum_catalog.VITAL_THRESHOLDS[name]
    return "good" if value <= good else "needs-improvement" if value <= poor else "poor"


def trend_query(vital: str) -> str:
    histogram = VITALS[vital][0]
    return (
        f'histogram_quantile(0.75, sum by (le) (rate({histogram}_bucket{{platform=~"$platform"}}[$__rate_interval])))'
    )


async def trend_chart(
    prom: PrometheusSource, vital: str, *, rng: TimeRange, platform: str | None, scrape_interval: float
) -> dict[str, Any] | str:
    expr = resolve(trend_query(vital), platform=platform, rng=rng, scrape_interval=scrape_interval)
    try:
        answer = await prom.query_range(expr, start=rng.start, end=rng.end, step=rng.step)
    except SourceError as exc:
        return str(exc)
    good, poor = rum_catalog.VITAL_THRESHOLDS[vital]
    return chart(
        f"{vital} p75",
        VITALS[vital][1],
        [("p75", s.timestamps, s.values) for s in answer],
        thresholds=[{"value": good, "color": "yellow"}, {"value": poor, "color": "red"}],
        y_min=0,
        x_range=(rng.start, rng.end),
    )


BEACONS = f"{rum_catalog.RUM_BEACONS.name}_total"


async def beacon_outcomes(prom: PrometheusSource, *, seconds: float, now: float) -> dict[str, float]:
    """Beacon requests per outcome over the range, from the RUM ingestion's counter.

    Bots are dropped before the body is read, so their platform is not known: these
    counts are for every platform. Counts are whole beacons (increase() extrapolates).
    """
    # A series born inside the range (the first bot since the server started) has no
    # earlier sample for increase() to count from: its whole value is the range's count.
    window = f"{int(seconds)}s"
    expr = f"sum by (outcome) (({BEACONS} unless {BEACONS} offset {window}) or increase({BEACONS}[{window}]))"
    answer = await prom.query_range(expr, start=now, end=now, step=60)
    return {s.labels.get("outcome", "?"): round(s.last() or 0.0) for s in answer if (s.last() or 0) >= 0.5}


def pages_table(rows: list[VitalP75]) -> list[tuple[str, dict[str, VitalP75]]]:
    by_page: dict[str, dict[str, VitalP75]] = {}
    for r in rows:
        by_page.setdefault(r.page_template, {})[r.name] = r
    return sorted(by_page.items())


def register(router: APIRouter, ctx: DashContext) -> None:
    settings = ctx.settings

    @router.get("/rum", response_class=HTMLResponse, summary="Real user monitoring")
    async def rum(request: Request) -> HTMLResponse:
        picks = read_picks(request, platforms=ctx.platforms, default_range="24h", ranges=RUM_RANGES)
        sources = ctx.sources()
        now = ctx.clock.now()
        since = now - timedelta(seconds=RANGE_SECONDS[picks.range])
        rng = ctx.time_range(picks.range)

        async def vitals() -> list[VitalP75]:
            if sources.rum is None:
                raise not_configured("RUM", "FANZWATCH_RUM_ENABLED=true", "Real user monitoring")
            return await sources.rum.vitals(since=since, platform=picks.platform)

        async def errors() -> list[ErrorSummary]:
            if sources.rum is None:
                raise not_configured("RUM", "FANZWATCH_RUM_ENABLED=true", "Real user monitoring")
            return await sources.rum.errors(since=since, platform=picks.platform, limit=20)

        async def trends() -> list[tuple[str, dict[str, Any] | str]]:
            prom = sources.prometheus
            if prom is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            drawn = await asyncio.gather(
                *(
                    trend_chart(
                        prom, v, rng=rng, platform=picks.platform, scrape_interval=settings.scrape_interval_seconds
                    )
                    for v in VITALS
                )
            )
            return list(zip(VITALS, drawn, strict=True))

        async def outcomes() -> dict[str, float]:
            if sources.prometheus is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            return await beacon_outcomes(sources.prometheus, seconds=RANGE_SECONDS[picks.range], now=now.timestamp())

        vital_rows, error_rows, trend_charts, beacons = await asyncio.gather(
            attempt("RUM vitals", vitals()),
            attempt("RUM errors", errors()),
            attempt("RUM trends", trends()),
            attempt("RUM beacon counts", outcomes()),
        )
        table: Section[list[tuple[str, dict[str, VitalP75]]]] = (
            Section(data=pages_table(vital_rows.data))
            if vital_rows.data is not None
            else Section(error=vital_rows.error)
        )
        return ctx.render(
            request,
            "rum.html",
            page="rum",
            title="Real user monitoring",
            status=picks.status,
            picks=picks,
            vitals=VITALS,
            thresholds=rum_catalog.VITAL_THRESHOLDS,
            rating=rating,
            table=table,
            errors=error_rows,
            trends=trend_charts,
            beacons=beacons,
        )
