"""BI page: revenue, MRR, payouts and fees, users and retention, content and engagement,
each against the previous window, with the insight sentences; and revenue per hour from
Prometheus over the same window (capped at 7 days)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...bi.models import BiReport
from .context import DashContext, attempt
from .errors import not_configured
from .pickers import read_picks
from .pulse import PULSE
from .pulse import pulse_view as _pulse_view

BI_WINDOWS = ("24h", "7d", "30d")
CHART_RANGE = {"24h": "24h", "7d": "7d", "30d": "7d"}

# (path in BiReport.changes, label, unit) of the headline figures.
HEADLINES = (
    ("revenue.total", "Revenue", "money"),
    ("revenue.mrr", "MRR", "money"),
    ("revenue.payment_success_ratio", "Payment success", "ratio"),
    ("revenue.creator_payouts", "Creator payouts", "money"),
    ("revenue.platform_fees", "Platform fees", "money"),
    ("users.new_users", "New users", "count"),
    ("users.active_users", "Active users", "count"),
    ("content.total_uploads", "Uploads", "count"),
    ("content.total_views", "Views", "count"),
    ("content.engagement_rate", "Engagement rate", "ratio"),
)


def bar_rows(values: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(label, value, share of the largest 0-100) for horizontal bars, largest first."""
    items = sorted(((k, float(v)) for k, v in values.items()), key=lambda kv: (-kv[1], kv[0]))
    top = max((v for _, v in items), default=0.0)
    return [(k, v, (v / top * 100) if top > 0 else 0.0) for k, v in items]


def register(router: APIRouter, ctx: DashContext) -> None:
    settings = ctx.settings

    @router.get("/bi", response_class=HTMLResponse, summary="Business intelligence")
    async def bi(request: Request) -> HTMLResponse:
        q = request.query_params
        window = q.get("window") or "24h"
        problems: list[str] = []
        if window not in BI_WINDOWS:
            problems.append(f"window {window[:20]!r} is not offered; choose one of {', '.join(BI_WINDOWS)}")
            window = "24h"
        picks = read_picks(request, platforms=ctx.platforms, default_range=CHART_RANGE[window])
        picks = type(picks)(
            range=CHART_RANGE[window],
            platform=picks.platform,
            refresh=picks.refresh,
            ranges=picks.ranges,
            errors=tuple(e for e in picks.errors if not e.startswith("range")),
            extra={"window": window},
        )
        problems.extend(picks.errors)
        sources = ctx.sources()

        async def report() -> BiReport:
            if sources.bi is None:
                raise not_configured("BI", "FANZWATCH_BI_DATABASE_URL", "Business intelligence")
            return await sources.bi.report(window, platform=picks.platform)

        async def revenue_chart() -> Any:
            if sources.prometheus is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            rng = ctx.time_range(picks.range)
            return await _pulse_view(
                sources.prometheus,
                PULSE[0],
                rng=rng,
                platform=picks.platform,
                scrape_interval=settings.scrape_interval_seconds,
            )

        result, revenue = await asyncio.gather(attempt("the BI report", report()), attempt("revenue", revenue_chart()))
        return ctx.render(
            request,
            "bi.html",
            page="bi",
            title="Business intelligence",
            status=400 if problems else 200,
            picks=picks,
            problems=problems,
            window=window,
            windows=BI_WINDOWS,
            result=result,
            headlines=HEADLINES,
            bar_rows=bar_rows,
            revenue=revenue,
        )
