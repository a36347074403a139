"""``fanzwatch anomaly insights`` and ``fanzwatch anomaly forecast``: analysis from Prometheus.

Both read a metric's history through the Prometheus HTTP API and print sentences a person
can act on (``--json`` prints the full report). A Prometheus that cannot be reached, an
unknown metric or an empty window end with a one-line error and exit code 2, not a
traceback.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

import httpx
import typer

from ..anomaly.engine import (
    AnalysisError,
    PrometheusClient,
    PrometheusQueryError,
    PrometheusUnavailableError,
    SeriesData,
    fetch_metric,
    forecast_report,
    insights_report,
)
from ..anomaly.engine.alertmanager import format_value

T = TypeVar("T")
_TIMEOUT = httpx.Timeout(30.0, connect=3.0)

PrometheusOpt = Annotated[str, typer.Option("--prometheus", help="Prometheus base URL.")]
MetricOpt = Annotated[
    str, typer.Option("--metric", help="A watched signal (request_rate, latency_p95, ...) or a catalog metric.")
]
PlatformOpt = Annotated[str | None, typer.Option("--platform", help="Only this platform, e.g. fanz-1.")]
MatchOpt = Annotated[list[str] | None, typer.Option("--match", help="Only series with label=value (repeatable).")]
DaysOpt = Annotated[float, typer.Option("--days", min=0.01, max=90, help="History to analyse, in days.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")]


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(2)


def _parse_matches(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise _fail(f"--match {item!r} must be label=value, e.g. --match mountpoint=/")
        out[key] = value
    return out


def _load(prometheus: str, metric: str, platform: str | None, matches: dict[str, str], days: float) -> list[SeriesData]:
    async def fetch() -> list[SeriesData]:
        async with httpx.AsyncClient(timeout=_TIMEOUT) as http:
            return await fetch_metric(
                PrometheusClient(prometheus, http),
                metric,
                end=time.time(),
                days=days,
                platform=platform,
                match=matches,
            )

    return _run(fetch)


def _run(factory: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await factory()

    try:
        return asyncio.run(main())
    except PrometheusUnavailableError as exc:
        raise _fail(f"{exc}. Is Prometheus running? Pass its URL with --prometheus.") from None
    except (AnalysisError, PrometheusQueryError) as exc:
        raise _fail(str(exc)) from None


def insights(
    metric: MetricOpt,
    prometheus: PrometheusOpt = "http://127.0.0.1:9090",
    platform: PlatformOpt = None,
    match: MatchOpt = None,
    days: DaysOpt = 7.0,
    json_output: JsonOpt = False,
) -> None:
    """Trend and daily/weekly seasonality of a metric, as the guide's insight sentences."""
    if not prometheus.startswith(("http://", "https://")):
        raise _fail(f"--prometheus {prometheus!r} is not an http(s) URL")
    data = _load(prometheus, metric, platform, _parse_matches(match), days)
    reports = [insights_report(d) for d in data]
    if json_output:
        typer.echo(json.dumps({"metric": metric, "days": days, "series": reports}, indent=2))
        return
    for d, report in zip(data, reports, strict=True):
        sentences = report["insights"]
        assert isinstance(sentences, list)
        if sentences:
            for sentence in sentences:
                typer.echo(sentence)
        else:
            typer.echo(f"{d.name}: no significant trend or seasonal pattern over the last {days:g} days")
        for note in _season_notes(report):
            typer.echo(f"  note: {note}")


def _season_notes(report: dict[str, object]) -> list[str]:
    season = report.get("seasonality")
    if not isinstance(season, dict):
        return []
    return [f"{lag['name']}: {lag['reason']}" for lag in season["lags"] if lag["reason"]]


def forecast(
    metric: MetricOpt,
    prometheus: PrometheusOpt = "http://127.0.0.1:9090",
    platform: PlatformOpt = None,
    match: MatchOpt = None,
    days: DaysOpt = 7.0,
    hours: Annotated[float, typer.Option("--hours", min=0.1, max=24 * 90, help="Forecast horizon in hours.")] = 6.0,
    level: Annotated[float, typer.Option("--level", min=0.5, max=0.99, help="Prediction interval level.")] = 0.9,
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Report when this value is crossed (disk full, pool max).")
    ] = None,
    direction: Annotated[
        str | None, typer.Option("--direction", help="rising or falling [default: towards the threshold].")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Forecast a metric with a prediction interval, and the time until a threshold is crossed."""
    if not prometheus.startswith(("http://", "https://")):
        raise _fail(f"--prometheus {prometheus!r} is not an http(s) URL")
    if direction not in (None, "rising", "falling"):
        raise _fail("--direction must be rising or falling")
    side: Literal["rising", "falling"] | None = "rising" if direction == "rising" else "falling" if direction else None
    data = _load(prometheus, metric, platform, _parse_matches(match), days)
    try:
        reports = [
            forecast_report(d, hours=hours, level=level, threshold=threshold, direction=side, max_points=24)
            for d in data
        ]
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if json_output:
        typer.echo(json.dumps({"metric": metric, "hours": hours, "series": reports}, indent=2))
        return
    for d, report in zip(data, reports, strict=True):
        typer.echo(f"{d.name}: next {hours:g} h, {level:.0%} interval")
        points = report["points"]
        assert isinstance(points, list)
        for p in points:
            when = datetime.fromtimestamp(p["timestamp"], UTC).strftime("%Y-%m-%d %H:%M UTC")
            mean, lo, hi = (format_value(p[k], d.unit) for k in ("mean", "lower", "upper"))
            typer.echo(f"  {when}  {mean}  ({lo} to {hi})")
        crossing = report["threshold"]
        if isinstance(crossing, dict):
            typer.echo(f"  {crossing['summary']}")
