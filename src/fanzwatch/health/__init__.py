"""Health checks that tell the truth, fast, and never hang.

Usable in any FastAPI app (FANZ services import it beside ``fanzwatch.sdk``)::

    registry = CollectorRegistry()
    runner = HealthCheckRunner(
        [SqlCheck("database", engine=engine), RedisCheck("cache", url=redis_url, critical=False)],
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(app):
        async with runner:          # background runs every 15 s; checks closed on exit
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_router(runner, service_id="fanz-api"))

See docs/health.md.
"""

from ._check import CheckReport, CheckResult, ComponentType, HealthCheck, HealthReport
from ._metrics import HealthMetrics
from ._registry import HealthCheckRegistry, UnknownCheckError
from ._render import HEALTH_JSON, render_check, render_health
from ._runner import HealthCheckRunner
from .build import build_check, build_checks, build_runner
from .checks import (
    DiskCheck,
    HttpCheck,
    LocalDirectoryStore,
    MemoryCheck,
    ObjectStore,
    RedisCheck,
    S3ObjectStore,
    SqlCheck,
    StorageCheck,
    TcpCheck,
)
from .router import build_router

__all__ = [
    "HEALTH_JSON",
    "CheckReport",
    "CheckResult",
    "ComponentType",
    "DiskCheck",
    "HealthCheck",
    "HealthCheckRegistry",
    "HealthCheckRunner",
    "HealthMetrics",
    "HealthReport",
    "HttpCheck",
    "LocalDirectoryStore",
    "MemoryCheck",
    "ObjectStore",
    "RedisCheck",
    "S3ObjectStore",
    "SqlCheck",
    "StorageCheck",
    "TcpCheck",
    "UnknownCheckError",
    "build_check",
    "build_checks",
    "build_router",
    "build_runner",
    "render_check",
    "render_health",
]
