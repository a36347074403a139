"""Overview and Dashboards pages: what is broken, what it costs, the shared dashboards."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...anomaly.engine import build_watchlist
from ...health import HealthReport
from ...provisioning.definitions.dashboards import DASHBOARDS
from .context import DashContext, Section, attempt, attempt_sync
from .errors import not_configured, not_running
from .panels import PanelView, dashboard_views
from .pickers import read_picks
from .platform_health import ServiceHealth, platform_health
from .pulse import PulseView, pulse_views
from .sources import Alert, DashSources, EngineView, Incident
from .telemetry_links import panel_exemplars

_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (_SEVERITY_ORDER.get(a.severity, 3), a.starts_at))


async def _alerts(sources: DashSources) -> list[Alert]:
    if sources.alertmanager is None:
        raise not_configured("Alertmanager", "FANZWATCH_DASH_ALERTMANAGER_URL", "Alertmanager")
    return sort_alerts([a for a in await sources.alertmanager.alerts() if a.state == "active"])


async def _health(sources: DashSources) -> HealthReport:
    if sources.health is None:
        raise not_configured("health", "FANZWATCH_HEALTH_CHECKS", "Health checking")
    return await sources.health.report()


async def _incidents(sources: DashSources) -> list[Incident]:
    if sources.incidents is None:
        raise not_running(
            "incidents",
            "Incident tracking is not running in this server: it comes with the alerting feature "
            "(Alertmanager's webhook to fanzwatch).",
        )
    return await sources.incidents.incidents()


def register(router: APIRouter, ctx: DashContext) -> None:
    settings = ctx.settings

    @router.get("", response_class=HTMLResponse, summary="FanzDash overview")
    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(request: Request) -> HTMLResponse:
        sources = ctx.sources()
        picks = read_picks(request, platforms=ctx.platforms, default_range=settings.default_range)
        rng = ctx.time_range(picks.range)

        async def pulse() -> list[PulseView]:
            if sources.prometheus is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            return await pulse_views(
                sources.prometheus, rng=rng, platform=picks.platform, scrape_interval=settings.scrape_interval_seconds
            )

        async def services() -> list[ServiceHealth]:
            if sources.prometheus is None:
                raise not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")
            return await platform_health(sources.prometheus, now=ctx.clock.now().timestamp(), platform=picks.platform)

        health, alerts, pulse_section, incidents, platform_services = await asyncio.gather(
            attempt("health", _health(sources)),
            attempt("Alertmanager", _alerts(sources)),
            attempt("the business pulse", pulse()),
            attempt("incidents", _incidents(sources)),
            attempt("the platforms' health", services()),
        )
        anomalies: Section[list[dict[str, object]]]
        engine_view: Section[EngineView]
        if sources.anomalies is None:
            anomalies = Section(
                error=str(not_configured("anomalies", "FANZWATCH_ANOMALY_ENABLED", "Anomaly detection"))
            )
            engine_view = Section(error=anomalies.error)
        else:
            engine = sources.anomalies
            anomalies = attempt_sync("anomalies", lambda: engine.episodes(platform=picks.platform)[0])
            engine_view = attempt_sync("the anomaly engine", engine.status)
        if alerts.data is not None and picks.platform:
            alerts = Section(data=[a for a in alerts.data if a.labels.get("platform") in (None, picks.platform)])
        return ctx.render(
            request,
            "overview.html",
            page="overview",
            title="Overview",
            status=picks.status,
            picks=picks,
            rng=rng,
            health=health,
            platform_services=platform_services,
            alerts=alerts,
            anomalies=anomalies,
            anomaly_engine=engine_view,
            pulse=pulse_section,
            incidents=incidents,
            units={s.key: s.unit for s in build_watchlist(rate_window_seconds=300)},
        )

    @router.get("/dashboards", response_class=HTMLResponse, summary="FanzDash dashboards")
    async def dashboards(request: Request) -> HTMLResponse:
        return ctx.render(request, "dashboards.html", page="dashboards", title="Dashboards", dashboards=DASHBOARDS)

    @router.get("/dashboards/{uid}", response_class=HTMLResponse, summary="One dashboard")
    async def dashboard(request: Request, uid: str) -> HTMLResponse:
        dash = next((d for d in DASHBOARDS if d.uid == uid), None)
        if dash is None:
            return ctx.render(
                request,
                "message.html",
                page="dashboards",
                title="No such dashboard",
                status=404,
                message=f"There is no dashboard {uid[:40]!r}.",
                link=(ctx.url("/dashboards"), "See all dashboards"),
            )
        picks = read_picks(request, platforms=ctx.platforms, default_range=settings.default_range)
        rng = ctx.time_range(picks.range)
        sources = ctx.sources()
        rows: Section[list[tuple[str, list[PanelView]]]]
        if sources.prometheus is None:
            rows = Section(error=str(not_configured("Prometheus", "FANZWATCH_DASH_PROMETHEUS_URL", "Prometheus")))
        else:
            rows = await attempt(
                "the dashboard",
                dashboard_views(
                    sources.prometheus,
                    dash,
                    rng=rng,
                    platform=picks.platform,
                    scrape_interval=settings.scrape_interval_seconds,
                ),
            )
        return ctx.render(
            request,
            "dashboard.html",
            page="dashboards",
            title=dash.title,
            status=picks.status,
            dash=dash,
            picks=picks,
            rng=rng,
            rows=rows,
            exemplars=lambda view: panel_exemplars(ctx.prefix, view, platform=picks.platform, range_=picks.range),
        )
