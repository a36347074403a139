"""``create_platform_app``: the demo creator platform as one FastAPI application.

Tenants live side by side under ``/p/{platform}/``: the API under
``/p/{platform}/api/v1``, HTML pages at ``/p/{platform}/``. The platform label of every
HTTP and business metric comes from that path segment (bounded: only configured tenants
route at all). Telemetry is the public SDK only: ``TelemetryMiddleware`` for requests,
business calls where the business happens, tracing helpers around payments, and
``fanzwatch.health`` for the health endpoints.

>>> telemetry = init_telemetry(service_name="fanz-demo-platform", platforms=("fanz-1",))
>>> app = create_platform_app(config, telemetry=telemetry)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from fastapi import FastAPI
from starlette.types import Scope

from fanzwatch.health import (
    HealthCheck,
    HealthCheckRunner,
    HttpCheck,
    LocalDirectoryStore,
    SqlCheck,
    StorageCheck,
    build_router,
)
from fanzwatch.sdk import Telemetry, TelemetryMiddleware, user_id_from_state

from ..processor.models import Endpoint
from . import pages, routes_accounts, routes_admin, routes_content, routes_engagement, routes_payments
from .config import PlatformConfig
from .db import create_platform_engine
from .faults import FaultState, InjectedFaultError, injected_fault_response
from .payments import CURRENCY_EXPONENT, PaymentService
from .processor_client import ProcessorClient
from .runtime import PlatformRuntime
from .storage import ObjectStorage
from .tables import create_platform_tables

logger = logging.getLogger(__name__)
HEALTH_PERIOD_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
SHARED_PLATFORM = "other"
"""The catalog's platform value for what belongs to no single tenant."""


def health_platform(platforms: tuple[str, ...]) -> str:
    """The ``platform`` label of the health metrics: the tenant when there is one, else ``other``.

    The checks probe what every tenant of this process shares (one database, one object
    store, one processor), so a failure is no single tenant's. Labelling it with the
    first tenant, as before, blamed that tenant alone; repeating it for every tenant
    would send one page per tenant for one broken database.
    """
    return platforms[0] if len(platforms) == 1 else SHARED_PLATFORM


def platform_of(scope: Scope) -> str | None:
    """The tenant of a request, from the matched route's path parameters."""
    params = scope.get("path_params")
    value = params.get("platform") if isinstance(params, dict) else None
    return value if isinstance(value, str) else None


def create_platform_app(config: PlatformConfig, *, telemetry: Telemetry) -> FastAPI:
    """Build the platform; connections open in the lifespan, nothing happens at build time."""
    engine = create_platform_engine(config.database_url, pool_size=config.db_pool_size)
    http = httpx.AsyncClient(timeout=httpx.Timeout(config.processor_timeout_seconds, connect=2.0))
    processor = ProcessorClient(http, config.processor_url, timeout=config.processor_timeout_seconds)
    storage = ObjectStorage(config.storage_dir)
    rt = PlatformRuntime(
        config=config,
        engine=engine,
        storage=storage,
        processor=processor,
        payments=PaymentService(processor, telemetry),
        faults=FaultState(),
        telemetry=telemetry,
    )
    checks: list[HealthCheck] = [
        # On the app's engine, so its pool is reported (SqlCheck probes SQLite through
        # pysqlite in a thread by itself: a cancelled aiosqlite connect is not safe).
        SqlCheck("database", engine=engine),
        StorageCheck("object_storage", LocalDirectoryStore(config.storage_dir)),
        # Not critical: the platform can still serve everything but payments, and an
        # operator may have switched to the other endpoint already.
        HttpCheck("payment_processor_primary", processor.url("health", Endpoint.PRIMARY), client=http, critical=False),
        HttpCheck("payment_processor_backup", processor.url("health", Endpoint.BACKUP), client=http, critical=False),
    ]
    health = HealthCheckRunner(
        checks,
        registry=telemetry.registry,
        platform=health_platform(config.platforms),
        period=HEALTH_PERIOD_SECONDS,
        default_timeout=HEALTH_TIMEOUT_SECONDS,
        max_age=config.health_max_age_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        storage.ensure()
        await create_platform_tables(engine)
        # Every tenant's payment series exist before the first payment: a currency first
        # paid in during an outage would otherwise lose its first failure from the SLOs.
        telemetry.business.declare_payments(currencies=CURRENCY_EXPONENT, platforms=config.platforms)
        try:
            telemetry.instrument_db_pool(engine, pool_name="platform")
        except ValueError as exc:  # a pool type the SDK cannot read (e.g. SQLite in memory)
            logger.info("database pool not instrumented: %s", exc)
        try:
            async with health:
                yield
        finally:
            await http.aclose()
            await engine.dispose()
            # uvicorn re-raises SIGTERM once the app is down, so the CLI's telemetry.shutdown()
            # may never run: batched spans and log records leave now.
            await anyio.to_thread.run_sync(lambda: telemetry.force_flush(timeout_millis=5_000))

    app = FastAPI(title="FANZ demo creator platform", version="1", lifespan=lifespan)
    app.state.runtime = rt
    app.add_exception_handler(InjectedFaultError, injected_fault_response)
    app.add_middleware(TelemetryMiddleware, telemetry=telemetry, platform=platform_of, user_id=user_id_from_state)

    for module in (routes_accounts, routes_content, routes_engagement, routes_payments):
        app.include_router(module.router)
    app.include_router(routes_admin.router)
    app.include_router(pages.router)
    app.include_router(build_router(health, service_id=config.service_name))
    return app
