"""SLOs page: every SLO's SLI, budget left in percent and in money, burn rate per window,
the tiers that would fire, and a burn-down chart over the picked range; then the
performance budgets (RUM per page template, and the API's p95) as template × platform grids."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...provisioning.definitions.slos import SLOS
from .charts import chart
from .context import DashContext, Section, attempt
from .errors import not_configured
from .perf_budgets import is_budget_row, performance_budgets
from .pickers import read_picks
from .slo_status import WINDOWS, SloStatus, burn_down, slo_statuses
from .telemetry_links import exemplar_url

LATENCY_SLIS = {slo.id: slo.sli for slo in SLOS if slo.sli.slow_after is not None}


def register(router: APIRouter, ctx: DashContext) -> None:
    @router.get("/slos", response_class=HTMLResponse, summary="SLOs and error budgets")
    async def slos(request: Request) -> HTMLResponse:
        sources = ctx.sources()
        picks = read_picks(request, platforms=ctx.platforms, default_range="24h")
        rng = ctx.time_range(picks.range)
        prom = sources.prometheus

        async def statuses() -> list[SloStatus]:
            if prom is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            # Now, not the range end: the range is aligned to its step, minutes behind.
            return await slo_statuses(prom, now=ctx.clock.now().timestamp(), platform=picks.platform)

        result = await attempt("the SLOs", statuses())
        charts: dict[str, Section[dict[str, Any]]] = {}
        rows = [s for s in result.data or () if not is_budget_row(s)]
        budgets = performance_budgets(result.data or [], ctx.platforms)
        if rows and prom is not None:
            ids = sorted({s.sloth_id for s in rows})

            async def one(sloth_id: str) -> dict[str, Any]:
                series = await burn_down(prom, sloth_id, start=rng.start, end=rng.end, step=rng.step)
                if picks.platform:
                    series = [s for s in series if s.labels.get("platform") == picks.platform]
                lines = [(s.labels.get("platform", sloth_id), s.timestamps, s.values) for s in series]
                return chart(
                    f"{sloth_id}: error budget left",
                    "ratio",
                    lines,
                    thresholds=[{"value": 0, "color": "red"}],
                    x_range=(rng.start, rng.end),
                )

            drawn = await asyncio.gather(*(attempt(f"the burn-down of {i}", one(i)) for i in ids))
            charts = dict(zip(ids, drawn, strict=True))

        def exemplars(s: SloStatus) -> str | None:
            """A latency SLO's example slow traces: its route (if any), slower than its threshold."""
            sli = LATENCY_SLIS.get(s.sloth_id)
            if sli is None or sli.slow_after is None:
                return None
            return exemplar_url(ctx.prefix, min_seconds=sli.slow_after, route=sli.route, platform=s.platform or None)

        return ctx.render(
            request,
            "slos.html",
            page="slos",
            title="SLOs",
            status=picks.status,
            picks=picks,
            result=result,
            rows=rows,
            budgets=budgets,
            charts=charts,
            windows=WINDOWS,
            tiers=None,  # each SLO's own tiers (SloStatus.tiers)
            exemplars=exemplars,
        )
