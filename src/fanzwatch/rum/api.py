"""Read side of RUM: p75 per page and the top errors over a window, and the script itself.

These are ordinary FastAPI routes (low traffic, documented in OpenAPI); the
beacon endpoints are the pure ASGI app in ``asgi.py``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from ..core.catalog.rum import DEVICE_CLASSES, VITAL_THRESHOLDS
from ..core.platforms import OTHER_PLATFORM
from .ingestor import IngestUnavailableError, RumIngestor
from .store import RumEventStore

SCRIPT_PATH = "/rum/fanz-rum.js"
MAX_WINDOW = timedelta(days=90)
_WINDOW = re.compile(r"^(\d{1,5})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
Rating = Literal["good", "needs-improvement", "poor"]


class VitalSummary(BaseModel):
    p75: float = Field(description="75th percentile (nearest rank): seconds, CLS unitless")
    count: int = Field(description="page views measured")
    rating: Rating = Field(description="the p75 against the web.dev good/poor thresholds")


class PageVitals(BaseModel):
    page_template: str
    vitals: dict[str, VitalSummary]


class VitalsResponse(BaseModel):
    window_seconds: int
    since: datetime
    platform: str | None
    device_class: str | None
    pages: list[PageVitals]


class ErrorItem(BaseModel):
    fingerprint: str
    kind: str
    message: str = Field(description="one scrubbed example message")
    count: int
    sessions: int = Field(description="distinct tab sessions that hit it")
    last_seen: datetime


class ErrorsResponse(BaseModel):
    window_seconds: int
    since: datetime
    platform: str | None
    errors: list[ErrorItem]


def parse_window(text: str) -> timedelta:
    """``"15m"``, ``"1h"``, ``"7d"`` → timedelta; at most 90 days."""
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"window {text[:20]!r}: use a number and s, m, h or d, e.g. 1h")
    window = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    if not timedelta(0) < window <= MAX_WINDOW:
        raise ValueError(f"window {text!r}: must be more than 0 and at most 90d")
    return window


def rating(name: str, value: float) -> Rating:
    good, poor = VITAL_THRESHOLDS[name]
    return "good" if value <= good else "needs-improvement" if value <= poor else "poor"


def load_script() -> bytes:
    """The built fanz-rum.js shipped in the package (see web/rum/)."""
    return (files("fanzwatch.rum") / "static" / "fanz-rum.js").read_bytes()


def build_rum_router(ingestor: RumIngestor, *, platforms: tuple[str, ...]) -> APIRouter:
    """GET /api/v1/rum/vitals, GET /api/v1/rum/errors and GET /rum/fanz-rum.js."""
    router = APIRouter(tags=["rum"])
    allowed_platforms = frozenset(platforms) | {OTHER_PLATFORM}
    script = load_script()
    etag = '"' + hashlib.sha256(script).hexdigest()[:20] + '"'

    def window_of(text: str) -> timedelta:
        try:
            return parse_window(text)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    def store() -> RumEventStore:
        try:
            return ingestor.store
        except IngestUnavailableError as exc:
            raise HTTPException(503, str(exc), headers={"retry-after": str(exc.retry_after)}) from None

    def check_platform(platform: str | None) -> None:
        if platform is not None and platform not in allowed_platforms:
            raise HTTPException(422, f"unknown platform {platform[:40]!r}")

    @router.get("/api/v1/rum/vitals", response_model=VitalsResponse)
    async def vitals(
        window: Annotated[str, Query(max_length=8, description="e.g. 15m, 1h, 7d")] = "1h",
        platform: Annotated[str | None, Query(max_length=32)] = None,
        device_class: Annotated[Literal["mobile", "tablet", "desktop"] | None, Query()] = None,
    ) -> VitalsResponse:
        """p75 of each Core Web Vital (and FCP, TTFB) per page template over the window."""
        span = window_of(window)
        check_platform(platform)
        assert device_class is None or device_class in DEVICE_CLASSES
        since = ingestor.clock.now() - span
        rows = await store().vitals_p75(since=since, platform=platform, device_class=device_class)
        pages: dict[str, dict[str, VitalSummary]] = {}
        for r in rows:
            pages.setdefault(r.page_template, {})[r.name] = VitalSummary(
                p75=r.p75, count=r.count, rating=rating(r.name, r.p75)
            )
        return VitalsResponse(
            window_seconds=int(span.total_seconds()),
            since=since,
            platform=platform,
            device_class=device_class,
            pages=[PageVitals(page_template=p, vitals=v) for p, v in pages.items()],
        )

    @router.get("/api/v1/rum/errors", response_model=ErrorsResponse)
    async def errors(
        window: Annotated[str, Query(max_length=8, description="e.g. 15m, 1h, 7d")] = "24h",
        platform: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> ErrorsResponse:
        """The most frequent JavaScript errors (by fingerprint) over the window."""
        span = window_of(window)
        check_platform(platform)
        since = ingestor.clock.now() - span
        top = await store().top_errors(since=since, platform=platform, limit=limit)
        return ErrorsResponse(
            window_seconds=int(span.total_seconds()),
            since=since,
            platform=platform,
            errors=[
                ErrorItem(
                    fingerprint=e.fingerprint,
                    kind=e.kind,
                    message=e.message,
                    count=e.count,
                    sessions=e.sessions,
                    last_seen=e.last_seen,
                )
                for e in top
            ],
        )

    @router.get(SCRIPT_PATH, include_in_schema=False)
    async def rum_script(request: Request) -> Response:
        headers = {
            "etag": etag,
            "cache-control": "public, max-age=300",
            "access-control-allow-origin": "*",
            "x-content-type-options": "nosniff",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(script, media_type="text/javascript; charset=utf-8", headers=headers)

    return router
