"""The fanzwatch server: ``create_app(settings)`` composes the feature routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio.to_thread
import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from prometheus_client import CollectorRegistry

from .. import __version__
from ..alerting import AlertingService
from ..alerting import build_router as build_alerting_router
from ..anomaly.engine import AnomalyEngine
from ..anomaly.router import build_router as build_anomaly_router
from ..bi import BiComponents, build_bi
from ..bi import build_router as build_bi_router
from ..core.clock import SystemClock
from ..core.scrubbing import scrub_text
from ..core.secrets import ensure_token_file
from ..health import build_router as build_health_router
from ..health import build_runner as build_health_runner
from ..impact import build_router as build_impact_router
from ..rum import RumBeaconMiddleware, RumIngestor, build_rum_app, build_rum_router
from ..sdk import TelemetryMiddleware, build_telemetry
from ..settings import ServerSettings
from ..store import create_store_engine, upgrade
from ..telemetry.api import build_router as build_telemetry_router
from ..telemetry.client import TelemetryStoreClient
from ..telemetry.metrics import OtlpMetrics
from ..telemetry.queue import StoreQueue
from ..telemetry.reader import TelemetryReader
from ..telemetry.receiver import OtlpReceiver
from .auth import AuthMiddleware, RoutePolicy, default_rules
from .correlation import META_ALERTS, correlation_rules
from .dash import DEFAULT_PREFIX, HealthHistory, build_dash_router, build_dash_sources
from .impact import build_impact_tracker
from .security import (
    alerting_with_webhook_token,
    build_authenticator,
    legacy_admin_tokens,
    own_health_checks,
    trust_proxies,
)

logger = logging.getLogger(__name__)

# One client for every outgoing call; explicit timeouts so a slow peer never hangs us.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
SERVICE_NAME = "fanzwatch"
"""service.name of the server's own spans and logs, unless configured."""
OTLP_PATH_PREFIX = "/v1"
UNEXPORTED_LOGGERS = ("fanzwatch.telemetry",)
"""The receiver's and store's own logs stay out of the OTLP logs they receive."""


def create_app(
    settings: ServerSettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
    telemetry_reader: TelemetryReader | None = None,
) -> FastAPI:
    """Build the server application.

    ``telemetry_reader`` is where traces and logs are read from (the trace and log store,
    or a client of the process owning it); without one, their API and pages answer 503.

    Nothing is started here: the store is migrated, clients are opened and the
    feature services are started in the lifespan, so creating an app is cheap and
    side-effect free.

    >>> app = create_app(ServerSettings(data_dir=Path("/tmp/fw")))
    """
    settings = settings or ServerSettings()
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
    clock = SystemClock()  # one clock for every feature that reasons about time
    # Refuses (ConfigError) to build a server with authentication off on a reachable address.
    authenticator = build_authenticator(settings)
    # Feature services are built here without I/O and started in the lifespan.
    health = build_health_runner(settings.health, registry=registry, defaults=own_health_checks(settings))
    rum = RumIngestor(
        registry=registry, settings=settings.rum, platforms=settings.platforms, scrub_rules=settings.scrub
    )
    bi: BiComponents | None = None
    if settings.bi.enabled and settings.bi.database_url is not None:
        bi = build_bi(settings.bi, platforms=settings.platforms, clock=clock)  # no I/O until used
        registry.register(bi.collector)  # KPI gauges (revenue, payment success) computed at scrape time
    # The server instruments itself with its own SDK; /metrics exposes the same registry.
    # Its traces and logs go to the configured OTLP endpoint, under `fanzwatch up` its own
    # receiver: the OTLP routes (/v1/...) are left untraced, so exporting never feeds itself.
    own = settings.telemetry
    telemetry = build_telemetry(
        own.model_copy(
            update={
                "metrics_path": None,
                "platforms": settings.platforms,
                "excluded_paths": (*own.excluded_paths, OTLP_PATH_PREFIX),
                "service_name": own.service_name if "service_name" in own.model_fields_set else SERVICE_NAME,
            }
        ),
        registry=registry,
    )
    if telemetry.log_handler is not None:
        telemetry.log_handler.exclude(*UNEXPORTED_LOGGERS)

    otlp = settings.otlp
    otlp_metrics = OtlpMetrics(registry)  # the pipeline's own metrics, on the server's /metrics
    receiver = OtlpReceiver(
        scrub=lambda text: scrub_text(text, rules=settings.scrub),  # log bodies: the RUM rules
        max_request_bytes=otlp.max_request_bytes,
        max_decompressed_bytes=otlp.max_decompressed_bytes,
        retry_after_seconds=otlp.retry_after_seconds,
        metrics=otlp_metrics,
    )

    def read_telemetry() -> TelemetryReader | None:
        # The one seam between the server and the trace and log store: a reader given to
        # create_app, else one over the store process's client once the lifespan made it.
        reader: TelemetryReader | None = getattr(app.state, "telemetry_reader", None)
        client = getattr(app.state, "telemetry_store", None)
        if reader is None and client is not None:
            reader = app.state.telemetry_reader = TelemetryReader(client)
        return reader

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Resources are released in the reverse order of acquisition, whatever fails.
        async with AsyncExitStack() as stack:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            # Tokens first: no request is served before they are known.
            authenticator.load(legacy_admin=legacy_admin_tokens(settings))
            url = settings.store_url
            await anyio.to_thread.run_sync(lambda: upgrade(url))
            engine = create_store_engine(url, pool_size=settings.store.pool_size, echo=settings.store.echo)
            stack.push_async_callback(engine.dispose)
            telemetry.instrument_db_pool(engine, pool_name="store")
            stack.callback(telemetry.shutdown)
            telemetry.attach_log_handler()  # its log records by OTLP too, when configured
            http = await stack.enter_async_context(httpx.AsyncClient(timeout=HTTP_TIMEOUT))
            # Traces and logs live in the telemetry-store process (chDB: one process per path).
            store_settings = settings.telemetry_store
            app.state.telemetry_store = TelemetryStoreClient(
                store_settings.resolved_url(),
                ensure_token_file(store_settings.resolved_token_file(settings.secrets_dir)),
                http=http,
                timeout=store_settings.timeout_seconds,
            )
            if otlp.enabled:
                queue = StoreQueue(
                    app.state.telemetry_store,
                    capacity_rows=otlp.queue_rows,
                    batch_rows=otlp.batch_rows,
                    spool_dir=settings.data_dir / "otlp-spool",
                    metrics=otlp_metrics,
                )
                await queue.start()  # replays what an earlier stop spooled
                stack.push_async_callback(queue.stop, flush_seconds=otlp.shutdown_flush_seconds)
                receiver.attach(queue, token=ensure_token_file(otlp.resolved_token_file(settings.secrets_dir)))
                stack.callback(receiver.detach)
            await rum.start(engine)
            stack.push_async_callback(rum.stop)
            await stack.enter_async_context(health)  # first run now, then every period
            if settings.anomaly.enabled:
                anomalies = AnomalyEngine(settings.anomaly, http, registry, clock)
                await anomalies.start()  # rebuilds detector state from Prometheus history
                stack.push_async_callback(anomalies.stop)
                app.state.anomaly_engine = anomalies
            if settings.alerting.enabled:
                alerting = AlertingService(
                    alerting_with_webhook_token(settings),
                    engine,
                    http,
                    registry,
                    clock,
                    platforms=settings.platforms,
                    explains=correlation_rules(settings.platforms),  # what explains what, from provisioning
                    meta_alerts=META_ALERTS,  # the anomaly engine's: never a cause, never raises a priority
                    incident_page=f"{DEFAULT_PREFIX}/incidents/{{id}}",  # notifications link to FanzDash's page
                )
                await alerting.start()  # webhook inbox, incidents, escalation, outbox, remediation
                stack.push_async_callback(alerting.stop)
                app.state.alerting = alerting
                if settings.impact.enabled:
                    # Prices open incidents from Prometheus's revenue series and the anomaly engine's
                    # forecast; raises to P0 the ones costing money (see docs/impact.md).
                    impact = build_impact_tracker(
                        settings,
                        http,
                        registry,
                        clock,
                        ledger=alerting.impact_ledger,
                        platform_db=bi.engines[0] if bi is not None else None,
                    )
                    await impact.start()
                    stack.push_async_callback(impact.stop)
                    app.state.impact = impact
            if bi is not None:
                if bi.runner is not None:
                    bi.runner.start()  # incremental hourly rollups in a background thread
                stack.callback(bi.dispose)
            if settings.dash.enabled:
                history = HealthHistory(
                    health,
                    points=settings.dash.health_history_points,
                    interval=settings.dash.health_history_interval_seconds,
                )
                app.state.dash_sources = build_dash_sources(
                    http,
                    settings.dash,
                    health_runner=health,
                    health_history=history,
                    rum_store=rum.store,  # started above, so bound to the store
                    get_anomaly_engine=lambda: getattr(app.state, "anomaly_engine", None),
                    bi_service=bi.service if bi is not None else None,
                    get_alerting=(lambda: getattr(app.state, "alerting", None)) if settings.alerting.enabled else None,
                    scrub_rules=settings.scrub,
                    get_telemetry=read_telemetry,
                )
                await history.start()
                stack.push_async_callback(history.stop)
            logger.info("fanzwatch server ready", extra={"store": engine.url.render_as_string()})
            yield

    # FastAPI's built-in telemetry would add a second server span per request: ours is on.
    app = FastAPI(
        title="fanzwatch",
        version=__version__,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # Innermost: every route of the route table gets the policy's role (routes added by any
    # feature included); the principal is on request.state.principal for handlers.
    policy = RoutePolicy(
        default_rules(
            dash_prefix=DEFAULT_PREFIX,
            anonymous_metrics=settings.auth.anonymous_metrics,
            anonymous_health=settings.auth.anonymous_health,
        )
    )
    app.add_middleware(
        AuthMiddleware, auth=authenticator, policy=policy, routes=lambda: app.routes, dash_prefix=DEFAULT_PREFIX
    )
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    # Browser beacons take a lean path that never enters FastAPI's routing (public: they
    # have their own origin, key and rate rules).
    app.add_middleware(RumBeaconMiddleware, beacon=build_rum_app(rum))
    # Outermost: forwarded headers are believed only from the configured proxies.
    trust_proxies(app, settings.auth.trusted_proxies)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = telemetry.render_metrics(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    app.include_router(build_health_router(health, service_id="fanzwatch", version=__version__))
    app.include_router(build_rum_router(rum, platforms=settings.platforms))
    if otlp.enabled:
        app.include_router(receiver.router())  # checks the otlp_token itself (public to the policy)
    app.include_router(build_anomaly_router(lambda: getattr(app.state, "anomaly_engine", None)))
    if settings.alerting.enabled:
        app.include_router(
            build_alerting_router(lambda: getattr(app.state, "alerting", None), scrub_rules=settings.scrub)
        )

        def incident_reader() -> Any:
            alerting = getattr(app.state, "alerting", None)
            return alerting.queries.get if alerting is not None else None

        app.include_router(build_impact_router(incident_reader))  # the post-incident report
    app.include_router(build_bi_router(lambda: bi.service if bi is not None else None))
    app.include_router(build_telemetry_router(read_telemetry, platforms=settings.platforms, clock=clock))
    if settings.dash.enabled:
        app.include_router(
            build_dash_router(
                lambda: getattr(app.state, "dash_sources", None),
                settings.dash,
                platforms=settings.platforms,
                auth=authenticator,
            )
        )

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse("/dash/")

    app.state.otlp_receiver = receiver
    app.state.authenticator = authenticator  # tests and tools read the loaded tokens from here
    app.state.telemetry_reader = telemetry_reader
    return app
