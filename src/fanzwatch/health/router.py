"""The health endpoints as a router any FastAPI app can mount.

- ``GET /health``: every check, ``application/health+json``;
- ``GET /health/live``: liveness, the process only: it answers without touching any
  dependency, so a database outage never makes Kubernetes restart healthy pods;
- ``GET /health/ready``: readiness, the critical checks only;
- ``GET /health/checks/{name}``: one check, with its own status (404 for an unknown name).

200 for ``pass`` and ``warn``, 503 for ``fail``. Results come from the runner's cache,
so probe traffic does not reach the dependencies more than once per ``max_age``.

>>> app.include_router(build_router(runner, service_id="fanz-api", version="1.4.2"))
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse

from ..core.models import HealthStatus
from ._check import HealthReport
from ._registry import UnknownCheckError
from ._render import HEALTH_JSON, http_status, render_check, render_health
from ._runner import HealthCheckRunner

_NO_STORE = {"Cache-Control": "no-store"}
_EMPTY = HealthReport(())  # immutable: liveness reports no checks
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "pass or warn", "content": {HEALTH_JSON: {}}},
    503: {"description": "fail", "content": {HEALTH_JSON: {}}},
}


class HealthJSONResponse(JSONResponse):
    media_type = HEALTH_JSON


def build_router(
    runner: HealthCheckRunner,
    *,
    prefix: str = "/health",
    service_id: str | None = None,
    version: str | None = None,
    description: str | None = None,
) -> APIRouter:
    """The four health endpoints under ``prefix``, reading ``runner``."""
    router = APIRouter(prefix=prefix, tags=["health"])
    ident: dict[str, Any] = {"service_id": service_id, "version": version, "description": description}

    def respond(body: dict[str, Any], status: HealthStatus) -> HealthJSONResponse:
        return HealthJSONResponse(body, status_code=http_status(status), headers=_NO_STORE)

    @router.get("", response_class=HealthJSONResponse, responses=_RESPONSES, summary="All health checks")
    async def health() -> HealthJSONResponse:
        report = await runner.health()
        return respond(render_health(report, **ident), report.status)

    @router.get("/live", response_class=HealthJSONResponse, responses=_RESPONSES, summary="Liveness")
    async def live() -> HealthJSONResponse:
        # The process answers: that is all liveness may depend on.
        return respond(render_health(_EMPTY, status=HealthStatus.PASS, **ident), HealthStatus.PASS)

    @router.get("/ready", response_class=HealthJSONResponse, responses=_RESPONSES, summary="Readiness")
    async def ready() -> HealthJSONResponse:
        report = await runner.readiness()
        return respond(render_health(report, **ident), report.status)

    @router.get(
        "/checks/{name}",
        response_class=HealthJSONResponse,
        responses={**_RESPONSES, 404: {"description": "no check has this name"}},
        summary="One health check",
    )
    async def one_check(name: str) -> HealthJSONResponse:
        try:
            report = await runner.check(name)
        except UnknownCheckError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        body = render_health(_EMPTY, status=report.status, **ident)
        body["checks"] = {f"{report.name}:{report.measurement}": [render_check(report)]}
        return respond(body, report.status)

    return router
