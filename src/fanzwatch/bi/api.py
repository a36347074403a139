"""The BI JSON API: ``GET /api/v1/bi/report`` and ``GET /api/v1/bi/rollups``.

``build_router(get_service)`` takes a callable returning the ``BiService`` (or None when
BI is not configured), because the service is built in the server's lifespan, after the
routes. A bad window or end gives 422, an unknown platform 400, an unreachable platform
database 503, each with a message saying what to change.

>>> app.include_router(build_router(lambda: getattr(app.state, "bi_service", None)))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.exc import DBAPIError

from .models import BiReport
from .service import BiService, UnknownPlatformError
from .window import WindowError

logger = logging.getLogger(__name__)


def build_router(get_service: Callable[[], BiService | None]) -> APIRouter:
    """Routes under ``/api/v1/bi``."""
    router = APIRouter(prefix="/api/v1/bi", tags=["business intelligence"])

    def service() -> BiService:
        found = get_service()
        if found is None:
            raise HTTPException(503, "business intelligence is not configured: set FANZWATCH_BI_DATABASE_URL")
        return found

    @router.get("/report", response_model=BiReport)
    async def report(
        window: Annotated[str, Query(description="length of the window: 15m, 24h, 7d, 4w (max 366d)")] = "24h",
        platform: Annotated[str | None, Query(description="one platform slug; omit for all", max_length=64)] = None,
        end: Annotated[datetime | None, Query(description="window end, ISO 8601 with offset; default now")] = None,
        source: Annotated[Literal["auto", "raw"], Query(description="raw: bypass the rollups")] = "auto",
    ) -> BiReport:
        """KPIs of the window and of the previous window of equal length, their changes, and insights."""
        svc = service()

        def run() -> BiReport:
            return svc.report(window, platform=platform, end=end, raw=source == "raw")

        try:
            return await anyio.to_thread.run_sync(run)
        except WindowError as exc:
            raise HTTPException(422, str(exc)) from None
        except UnknownPlatformError as exc:
            raise HTTPException(400, str(exc)) from None
        except DBAPIError:
            logger.exception("bi report: the platform database failed")
            raise HTTPException(503, "the platform database is unavailable; try again later") from None

    @router.get("/rollups")
    async def rollups() -> dict[str, Any]:
        """How far the hourly rollups reach and how far behind now they are."""
        svc = service()
        try:
            status = await anyio.to_thread.run_sync(svc.rollup_status)
        except DBAPIError:
            logger.exception("bi rollups: the platform database failed")
            raise HTTPException(503, "the platform database is unavailable; try again later") from None
        if status is None:
            return {"built": False, "covered_until": None, "lag_seconds": None}
        lag = (svc.clock.now() - status.covered_until).total_seconds()
        return {
            "built": True,
            "covered_until": status.covered_until.isoformat(),
            "changes_seen_at": status.changes_seen_at.isoformat(),
            "lag_seconds": lag,
        }

    return router
