"""The anomaly API: active and recent anomalies, the watch-list with bands, insights, forecasts.

``build_router(get_engine)`` takes a callable returning the running engine (or None while
it is not running), because the engine is built in the server's lifespan, after the
routes. Bad parameters give 400/422 with a message; Prometheus down gives 503.

>>> app.include_router(build_router(lambda: getattr(app.state, "anomaly_engine", None)))  # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal, cast

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query

from ..core.catalog.anomaly import WATCHED_SIGNALS
from .engine import AnalysisError, AnomalyEngine, NoDataError, PrometheusQueryError, PrometheusUnavailableError
from .engine.analysis import SeriesData, fetch_metric, forecast_report, insights_report

_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_LABEL = re.compile(r"^([a-zA-Z_][a-zA-Z0-9_]*)=(.{1,200})$")

PlatformParam = Annotated[str | None, Query(description="one platform slug, e.g. fanz-1", max_length=32)]
MetricFilter = Annotated[str | None, Query(description="one of the six watched signals")]


def _platform(value: str | None) -> str | None:
    if value is not None and not _PLATFORM.match(value):
        raise HTTPException(400, f"platform {value!r} is not a platform slug (lowercase letters, digits, '-')")
    return value


def _signal(value: str | None) -> str | None:
    if value is not None and value not in WATCHED_SIGNALS:
        raise HTTPException(400, f"metric {value!r} is not watched; use one of {', '.join(WATCHED_SIGNALS)}")
    return value


def _matches(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        m = _LABEL.match(item)
        if not m:
            raise HTTPException(400, f"match {item!r} must be label=value, e.g. mountpoint=/")
        out[m.group(1)] = m.group(2)
    return out


def build_router(get_engine: Callable[[], AnomalyEngine | None]) -> APIRouter:
    """Routes under ``/api/v1/anomalies``."""
    router = APIRouter(prefix="/api/v1/anomalies", tags=["anomalies"])

    def engine() -> AnomalyEngine:
        found = get_engine()
        if found is None:
            raise HTTPException(503, "the anomaly engine is not running")
        return found

    @router.get("")
    def anomalies(
        metric: MetricFilter = None,
        platform: PlatformParam = None,
        limit: Annotated[int, Query(ge=1, le=1000, description="ended anomalies to return")] = 100,
    ) -> dict[str, object]:
        """Active anomalies and recently ended ones (newest first)."""
        eng = engine()
        active, recent = eng.anomalies(metric=_signal(metric), platform=_platform(platform))
        return {
            "status": eng.status().status.value,
            "active": [e.as_dict() for e in active],
            "recent": [e.as_dict() for e in recent[:limit]],
        }

    @router.get("/series")
    def series(
        metric: MetricFilter = None,
        platform: PlatformParam = None,
        points: Annotated[int, Query(ge=0, le=100_000, description="recent points per series to include")] = 0,
    ) -> dict[str, object]:
        """The watch-list: each series' latest value, expected band and score."""
        eng = engine()
        status = eng.status()
        out = []
        for st in eng.series(metric=_signal(metric), platform=_platform(platform)):
            window = st.window
            item: dict[str, object] = {
                "metric": st.signal.key,
                "platform": st.platform,
                "title": st.signal.title,
                "unit": st.signal.unit,
                "alert_on": st.signal.alert_on,
                "stale": st.stale,
                "active": st.episodes.current is not None,
                **window.latest(),
            }
            if points:
                item["points"] = window.points(points)
            out.append(item)
        return {"status": status.status.value, "output": status.output, "series": out}

    async def fetch(
        eng: AnomalyEngine, metric: str, platform: str | None, match: list[str], days: float
    ) -> list[SeriesData]:
        try:
            return await fetch_metric(
                eng.prometheus,
                metric,
                end=eng.clock.now().timestamp(),
                days=days,
                platform=_platform(platform),
                match=_matches(match),
                rate_window_seconds=eng.settings.rate_window_seconds,
                max_points=eng.settings.max_points_per_query,
            )
        except NoDataError as exc:
            raise HTTPException(404, str(exc)) from None
        except AnalysisError as exc:
            raise HTTPException(400, str(exc)) from None
        except PrometheusUnavailableError as exc:
            raise HTTPException(503, str(exc)) from None
        except PrometheusQueryError as exc:
            raise HTTPException(400, str(exc)) from None

    @router.get("/insights")
    async def insights(
        metric: Annotated[str, Query(min_length=1, max_length=200, description="watched signal or catalog metric")],
        platform: PlatformParam = None,
        match: Annotated[list[str], Query(description="label=value filters")] = [],  # noqa: B006
        days: Annotated[float, Query(gt=0, le=90, description="window analysed")] = 7.0,
    ) -> dict[str, object]:
        """Trend (percent per day, significance) and daily/weekly seasonality, with sentences."""
        eng = engine()
        data = await fetch(eng, metric, platform, match, days)
        reports = await anyio.to_thread.run_sync(lambda: [insights_report(d) for d in data])
        sentences = [s for r in reports for s in cast(list[str], r["insights"])]
        return {"metric": metric, "days": days, "insights": sentences, "series": reports}

    @router.get("/forecast")
    async def forecast(
        metric: Annotated[str, Query(min_length=1, max_length=200, description="watched signal or catalog metric")],
        platform: PlatformParam = None,
        match: Annotated[list[str], Query(description="label=value filters")] = [],  # noqa: B006
        days: Annotated[float, Query(gt=0, le=90, description="history used")] = 7.0,
        hours: Annotated[float, Query(gt=0, le=24 * 90, description="forecast horizon")] = 6.0,
        level: Annotated[float, Query(ge=0.5, lt=1.0, description="prediction interval level")] = 0.9,
        threshold: Annotated[float | None, Query(description="report when this value is crossed")] = None,
        direction: Annotated[Literal["rising", "falling"] | None, Query(description="crossing direction")] = None,
    ) -> dict[str, object]:
        """Forecast with a prediction interval, and the time until ``threshold`` is crossed."""
        eng = engine()
        data = await fetch(eng, metric, platform, match, days)

        def run() -> list[dict[str, object]]:
            return [
                forecast_report(d, hours=hours, level=level, threshold=threshold, direction=direction) for d in data
            ]

        try:
            reports = await anyio.to_thread.run_sync(run)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return {"metric": metric, "hours": hours, "level": level, "series": reports}

    return router
