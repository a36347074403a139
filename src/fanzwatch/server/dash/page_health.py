"""Health page: each platform's own dependency checks (from Prometheus), then this
server's checks with their observed values and history."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...health import HealthReport
from .charts import chart
from .context import DashContext, attempt
from .errors import not_configured
from .pickers import read_picks
from .platform_health import ServiceHealth, platform_health
from .sources import HealthPoint


def history_chart(name: str, unit: str | None, points: list[HealthPoint]) -> dict[str, Any] | None:
    """Observed value (or, for checks without a number, the run time) over the history."""
    if not points:
        return None
    ts = [p.time.timestamp() for p in points]
    if any(p.observed_value is not None for p in points):
        values = [p.observed_value for p in points]
        label, shown_unit = "observed value", _unit(unit)
    else:
        values = [p.duration for p in points]
        label, shown_unit = "run time", "seconds"
    return chart(name, shown_unit, [(label, ts, values)], y_min=0)


def _unit(unit: str | None) -> str:
    return {"s": "seconds", "ratio": "ratio", "percent": "ratio", "bytes": "bytes"}.get(unit or "", unit or "")


def summary(points: list[HealthPoint]) -> dict[str, int]:
    counts = {"pass": 0, "warn": 0, "fail": 0}
    for p in points:
        counts[p.status] = counts.get(p.status, 0) + 1
    return counts


def register(router: APIRouter, ctx: DashContext) -> None:
    @router.get("/health", response_class=HTMLResponse, summary="Health checks")
    async def health(request: Request) -> HTMLResponse:
        sources = ctx.sources()

        async def report() -> HealthReport:
            if sources.health is None:
                raise not_configured("health", "FANZWATCH_HEALTH_CHECKS", "Health checking")
            return await sources.health.report()

        picks = read_picks(request, platforms=ctx.platforms, default_range="1h")

        async def platforms() -> list[ServiceHealth]:
            if sources.prometheus is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            return await platform_health(sources.prometheus, now=ctx.clock.now().timestamp(), platform=picks.platform)

        result, services = await asyncio.gather(
            attempt("health checks", report()), attempt("the platforms' health", platforms())
        )
        rows = []
        if result.data is not None and sources.health is not None:
            for check in result.data.checks:
                points = sources.health.history(check.name)
                rows.append(
                    (check, points, summary(points), history_chart(check.name, check.result.observed_unit, points))
                )
        return ctx.render(
            request,
            "health.html",
            page="health",
            title="Health",
            status=picks.status,
            picks=picks,
            result=result,
            rows=rows,
            services=services,
        )
