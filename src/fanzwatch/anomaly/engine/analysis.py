"""Insights and forecasts of a metric read from Prometheus: shared by the API and the CLI.

``metric`` is one of the six watched signals (``request_rate``, ...) or any metric of the
catalog (``node_filesystem_avail_bytes``, ``db_client_connection_count``, ...); series can
be narrowed to one platform and to exact label values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...core import CATALOG
from ...core.catalog.anomaly import WATCHED_SIGNALS
from ...core.errors import FanzwatchError
from ..forecast import forecast, time_to_threshold
from ..insights import Analysis, FloatArray, analyze, insight_sentences
from .prometheus import PrometheusClient
from .watchlist import build_watchlist, catalog_expr

MAX_SERIES = 50
TARGET_POINTS = 20_000


class AnalysisError(FanzwatchError, ValueError):
    """The request cannot be answered as asked (unknown metric, no data, too many series)."""


class NoDataError(AnalysisError):
    """Prometheus has no points for the metric in the window."""


@dataclass(frozen=True, slots=True)
class SeriesData:
    metric: str
    name: str
    labels: dict[str, str]
    unit: str
    timestamps: FloatArray
    values: FloatArray


def resolve_metric(metric: str, *, rate_window_seconds: int) -> tuple[str, str]:
    """(PromQL, unit) for a watched signal or a catalog metric; AnalysisError otherwise."""
    if metric in WATCHED_SIGNALS:
        signal = next(s for s in build_watchlist(rate_window_seconds=rate_window_seconds) if s.key == metric)
        return signal.expr, signal.unit
    if metric in CATALOG or CATALOG.knows_series(metric):
        return catalog_expr(metric, rate_window_seconds=rate_window_seconds)
    raise AnalysisError(
        f"unknown metric {metric!r}: use one of {', '.join(WATCHED_SIGNALS)} or a metric listed in docs/metrics.md"
    )


def auto_step(days: float) -> float:
    """A step (whole minutes, at least one) giving about TARGET_POINTS points over ``days``."""
    return float(max(60, math.ceil(days * 86400 / TARGET_POINTS / 60) * 60))


async def fetch_metric(
    prometheus: PrometheusClient,
    metric: str,
    *,
    end: float,
    days: float,
    platform: str | None = None,
    match: dict[str, str] | None = None,
    step: float | None = None,
    rate_window_seconds: int = 300,
    max_points: int = 10_000,
) -> list[SeriesData]:
    """The metric's series over the last ``days``, filtered; raises NoDataError when empty."""
    expr, unit = resolve_metric(metric, rate_window_seconds=rate_window_seconds)
    step = step or auto_step(days)
    end = math.floor(end / step) * step
    start = end - math.floor(days * 86400 / step) * step
    answer = await prometheus.query_range_chunked(expr, start, end, step, max_points=max_points)
    wanted = dict(match or {})
    if platform is not None:
        wanted["platform"] = platform
    chosen = [s for s in answer if all(s.labels.get(k) == v for k, v in wanted.items())]
    chosen = [s for s in chosen if np.isfinite(s.values).any()]
    if not chosen:
        where = f" for {', '.join(f'{k}={v}' for k, v in sorted(wanted.items()))}" if wanted else ""
        raise NoDataError(f"Prometheus has no data for {metric}{where} in the last {days:g} days")
    if len(chosen) > MAX_SERIES:
        raise AnalysisError(
            f"{metric} matched {len(chosen)} series; narrow it with platform or match (max {MAX_SERIES})"
        )
    return [
        SeriesData(metric, _display_name(metric, s.labels), s.labels, unit, s.timestamps, s.values)
        for s in sorted(chosen, key=lambda s: sorted(s.labels.items()))
    ]


def _display_name(metric: str, labels: dict[str, str]) -> str:
    if metric in WATCHED_SIGNALS:
        return f"{metric} on {labels.get('platform') or 'all platforms'}"
    shown = {k: v for k, v in labels.items() if k not in ("__name__", "job", "instance")}
    if set(shown) == {"platform"}:
        return f"{metric} on {shown['platform']}"
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(shown.items()))
    return f"{metric}{{{inner}}}" if inner else metric


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def insights_report(data: SeriesData, *, min_pct_per_day: float = 0.5) -> dict[str, object]:
    """Trend, seasonality and the guide's sentences of one series (CPU: call off the loop)."""
    result: Analysis = analyze(data.timestamps, data.values)
    trend = result.trend
    season = result.seasonality
    return {
        "metric": data.metric,
        "name": data.name,
        "labels": data.labels,
        "unit": data.unit,
        "points": int(np.isfinite(data.values).sum()),
        "trend": None
        if trend is None
        else {
            "direction": trend.direction,
            "significant": trend.significant,
            "p_value": trend.p_value,
            "slope_per_day": trend.slope_per_day,
            "slope_ci_per_day": [trend.slope_low_per_day, trend.slope_high_per_day],
            "pct_per_day": _num(trend.pct_per_day),
            "pct_ci_per_day": [_num(trend.pct_low_per_day), _num(trend.pct_high_per_day)],
            "level": trend.level,
            "span_seconds": trend.span_seconds,
        },
        "seasonality": None
        if season is None
        else {
            "step_seconds": season.step_seconds,
            "detected": season.detected,
            "pattern": season.pattern,
            "strength": season.strength,
            "lags": [
                {
                    "name": lag.name,
                    "lag_points": lag.lag_points,
                    "period_seconds": lag.period_seconds,
                    "autocorrelation": _num(lag.acf),
                    "band": _num(lag.band),
                    "significant": lag.significant,
                    "detected": lag.detected,
                    "reason": lag.reason,
                }
                for lag in (season.daily, season.weekly)
            ],
        },
        "insights": insight_sentences(data.name, result, min_pct_per_day=min_pct_per_day),
        "reason": result.reason,
    }


def forecast_report(
    data: SeriesData,
    *,
    hours: float,
    level: float = 0.9,
    threshold: float | None = None,
    direction: Literal["rising", "falling"] | None = None,
    max_points: int = 200,
) -> dict[str, object]:
    """Forecast (and time to ``threshold``) of one series (CPU: call off the loop)."""
    horizon = hours * 3600
    fc = forecast(data.timestamps, data.values, horizon_seconds=horizon, level=level, max_points=max_points)
    out: dict[str, object] = {
        "metric": data.metric,
        "name": data.name,
        "labels": data.labels,
        "unit": data.unit,
        "level": level,
        "period": fc.period,
        "slope_per_day": fc.slope_per_day,
        "step_seconds": fc.step_seconds,
        "points": [
            {"timestamp": float(t), "mean": float(m), "lower": float(lo), "upper": float(hi)}
            for t, m, lo, hi in zip(fc.timestamps, fc.mean, fc.lower, fc.upper, strict=True)
        ],
        "threshold": None,
    }
    if threshold is not None:
        crossing = time_to_threshold(
            data.timestamps, data.values, threshold, horizon_seconds=horizon, level=level, direction=direction
        )
        out["threshold"] = {
            "value": threshold,
            "direction": crossing.direction,
            "current": crossing.current,
            "already_crossed": crossing.already_crossed,
            "within_horizon": crossing.within_horizon,
            "eta_seconds": crossing.eta_seconds,
            "earliest_seconds": crossing.earliest_seconds,
            "latest_seconds": crossing.latest_seconds,
            "summary": crossing.describe(data.name),
        }
    return out
