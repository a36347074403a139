"""The fanzwatch server: ``create_app(settings)`` composes the feature routers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
import httpx
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .. import __version__
from ..health import build_router as build_health_router
from ..health import build_runner as build_health_runner
from ..sdk import TelemetryMiddleware, build_telemetry
from ..settings import ServerSettings
from ..store import create_store_engine, upgrade
from .context import ServerContext

logger = logging.getLogger(__name__)

# One client for every outgoing call; explicit timeouts so a slow peer never hangs us.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def create_app(settings: ServerSettings | None = None, *, registry: CollectorRegistry | None = None) -> FastAPI:
    """Build the server application.

    Nothing is started here: the store is migrated and clients are opened in the
    lifespan, so creating an app is cheap and side-effect free.

    >>> app = create_app(ServerSettings(data_dir=Path("/tmp/fw")))
    """
    settings = settings or ServerSettings()
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
    # Built here without I/O (engines and clients inside the checks are lazy); run in the lifespan.
    health = build_health_runner(settings.health, registry=registry)
    # The server instruments itself with its own SDK; /metrics below exposes the same registry.
    telemetry = build_telemetry(
        settings.telemetry.model_copy(update={"metrics_path": None, "platforms": settings.platforms}),
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = settings.store_url
        await anyio.to_thread.run_sync(lambda: upgrade(url))
        engine = create_store_engine(url, pool_size=settings.store.pool_size, echo=settings.store.echo)
        telemetry.instrument_db_pool(engine, pool_name="store")
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            app.state.ctx = ServerContext(settings=settings, registry=registry, engine=engine, http=http)
            logger.info("fanzwatch server ready", extra={"store": engine.url.render_as_string()})
            try:
                async with health:  # first run now, then every period; checks closed on exit
                    yield
            finally:
                telemetry.shutdown()
                await engine.dispose()

    # FastAPI's built-in telemetry would add a second server span per request: ours is on.
    app = FastAPI(
        title="fanzwatch",
        version=__version__,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
    app.state.settings = settings
    app.state.registry = registry

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(build_health_router(health, service_id="fanzwatch", version=__version__))
    return app
