"""Anomalies page: each watched series with its expected band and anomaly marks, and the
insights and forecast of a signal (computed on demand: they read days of history)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...anomaly.engine import build_watchlist
from ...core.catalog.anomaly import WATCHED_SIGNALS
from .charts import chart
from .context import DashContext, Section, attempt, attempt_sync
from .errors import not_configured
from .pickers import read_picks
from .sources import Analysis, AnomalySeries, AnomalySource, EngineView
from .timerange import RANGE_SECONDS

ANOMALY_RANGES = ("1h", "6h", "24h")
MAX_CHARTS = 36
MAX_POINTS = 1440
ANALYSIS_DAYS = {"1": 1.0, "3": 3.0, "7": 7.0, "14": 14.0}
FORECAST_HOURS = {"6": 6.0, "24": 24.0, "72": 72.0}


def series_chart(s: AnomalySeries, since: float, until: float) -> dict[str, Any]:
    rows = [r for r in s.points if isinstance(r[0], float | int) and float(r[0]) >= since]
    ts = [float(r[0]) for r in rows]  # type: ignore[arg-type]

    def column(i: int) -> list[float | None]:
        return [None if r[i] is None else float(r[i]) for r in rows]  # type: ignore[arg-type]

    marks = [float(r[1]) if r[5] and r[1] is not None else None for r in rows]
    return chart(
        f"{s.title} on {s.platform}",
        s.unit,
        [
            ("value", ts, column(1)),
            ("expected low", ts, column(2)),
            ("expected high", ts, column(3)),
            ("anomaly", ts, marks),
        ],
        band=(1, 2),
        marks=3,
        dashed=(1, 2),
        x_range=(since, until),
    )


def forecast_chart(analysis: Analysis, index: int) -> dict[str, Any] | None:
    fc = analysis.forecasts[index]
    history = analysis.history[index]
    points = fc.get("points")
    if not isinstance(points, list) or not points:
        return None
    ft = [float(p["timestamp"]) for p in points]
    return chart(
        str(fc.get("name", "")),
        str(fc.get("unit", "")),
        [
            ("observed", history.timestamps, history.values),
            ("forecast low", ft, [float(p["lower"]) for p in points]),
            ("forecast high", ft, [float(p["upper"]) for p in points]),
            ("forecast", ft, [float(p["mean"]) for p in points]),
        ],
        band=(1, 2),
        dashed=(1, 2, 3),
    )


def register(router: APIRouter, ctx: DashContext) -> None:
    units = {s.key: s.unit for s in build_watchlist(rate_window_seconds=300)}

    def engine() -> AnomalySource:
        found = ctx.sources().anomalies
        if found is None:
            raise not_configured("anomalies", "FANZWATCH_ANOMALY_ENABLED=true", "Anomaly detection")
        return found

    @router.get("/anomalies", response_class=HTMLResponse, summary="Anomalies")
    async def anomalies(request: Request) -> HTMLResponse:
        picks = read_picks(request, platforms=ctx.platforms, default_range="6h", ranges=ANOMALY_RANGES)
        metric = request.query_params.get("metric") or None
        errors = list(picks.errors)
        if metric is not None and metric not in WATCHED_SIGNALS:
            errors.append(f"signal {metric[:40]!r} is not watched; choose one of {', '.join(WATCHED_SIGNALS)}")
            metric = None
        if metric:
            picks.extra["metric"] = metric
        status: Section[EngineView] = attempt_sync("the anomaly engine", lambda: engine().status())
        episodes = attempt_sync("anomalies", lambda: engine().episodes(platform=picks.platform))
        series = attempt_sync(
            "watched series", lambda: engine().series(metric=metric, platform=picks.platform, points=MAX_POINTS)
        )
        until = ctx.clock.now().timestamp()
        since = until - RANGE_SECONDS[picks.range]
        every = series.data or []
        shown = sorted((s for s in every if s.state != "idle"), key=lambda s: (not s.active, s.metric, s.platform))
        idle = sorted({s.platform for s in every if s.state == "idle"})
        charts = [(s, series_chart(s, since, until)) for s in shown[:MAX_CHARTS]]
        return ctx.render(
            request,
            "anomalies.html",
            page="anomalies",
            title="Anomalies",
            status=400 if errors else 200,
            picks=picks,
            problems=errors,
            metric=metric,
            signals=WATCHED_SIGNALS,
            engine=status,
            episodes=episodes,
            series=series,
            charts=charts,
            hidden=max(0, len(shown) - MAX_CHARTS),
            idle=idle,
            idle_count=sum(1 for s in every if s.state == "idle"),
            units=units,
        )

    @router.get("/anomalies/analysis", response_class=HTMLResponse, summary="Insights and forecast of a signal")
    async def analysis(request: Request) -> HTMLResponse:
        q = request.query_params
        picks = read_picks(request, platforms=ctx.platforms, default_range="6h", ranges=ANOMALY_RANGES)
        errors = list(picks.errors)
        metric = q.get("metric") or WATCHED_SIGNALS[0]
        if metric not in WATCHED_SIGNALS:
            errors.append(f"signal {metric[:40]!r} is not watched; choose one of {', '.join(WATCHED_SIGNALS)}")
            metric = WATCHED_SIGNALS[0]
        days_key, hours_key = q.get("days") or "7", q.get("hours") or "24"
        if days_key not in ANALYSIS_DAYS:
            errors.append(f"days must be one of {', '.join(ANALYSIS_DAYS)}")
            days_key = "7"
        if hours_key not in FORECAST_HOURS:
            errors.append(f"hours must be one of {', '.join(FORECAST_HOURS)}")
            hours_key = "24"
        picks.extra.update(metric=metric, days=days_key, hours=hours_key)

        async def run() -> Analysis:
            return await engine().analysis(
                metric, platform=picks.platform, days=ANALYSIS_DAYS[days_key], hours=FORECAST_HOURS[hours_key]
            )

        result = await attempt("insights and forecasts", run())
        forecasts = [forecast_chart(result.data, i) for i in range(len(result.data.forecasts))] if result.data else []
        return ctx.render(
            request,
            "analysis.html",
            page="anomalies",
            title=f"Insights and forecast: {metric}",
            status=400 if errors else 200,
            picks=picks,
            problems=errors,
            metric=metric,
            signals=WATCHED_SIGNALS,
            days_key=days_key,
            hours_key=hours_key,
            day_choices=ANALYSIS_DAYS,
            hour_choices=FORECAST_HOURS,
            result=result,
            forecasts=forecasts,
        )
