"""HTTP surface of impact: the post-incident report.

- ``GET /api/v1/incidents/{id}/report``: the Markdown post-mortem draft (``text/markdown``),
  404 for an unknown incident, 503 while alert handling is starting or disabled.

The incident (with its stored impact) comes from whatever ``provider`` returns: the
server composes it with the alerting store's incident reader.

>>> app.include_router(build_router(lambda: app.state.alerting.queries.get))
"""

# No "from __future__ import annotations": FastAPI must see the closures' Annotated types at runtime.

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from .report import render_report

IncidentReader = Callable[[int], Awaitable[dict[str, Any] | None]]
ReaderProvider = Callable[[], IncidentReader | None]


def build_router(provider: ReaderProvider) -> APIRouter:
    router = APIRouter(tags=["impact"])

    @router.get(
        "/api/v1/incidents/{incident_id}/report",
        summary="Post-incident report draft (Markdown)",
        response_class=Response,
        responses={200: {"content": {"text/markdown": {}}}},
    )
    async def report(incident_id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        read = provider()
        if read is None:
            raise HTTPException(503, "alert handling is starting or disabled")
        incident = await read(incident_id)
        if incident is None:
            raise HTTPException(404, f"incident {incident_id} does not exist")
        return Response(render_report(incident), media_type="text/markdown; charset=utf-8")

    return router
