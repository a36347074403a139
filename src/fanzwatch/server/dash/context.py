"""What every FanzDash page handler shares: sources, settings, access rules, rendering.

``attempt`` is the fail-soft rule in one place: a section whose source fails shows the
source's sentence instead of data, and an unexpected bug shows a short message (the
traceback goes to the log), never a 500 for the page.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Generic, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ...core.clock import Clock
from ...settings.dash import DashSettings
from ..auth import Role
from . import formatting
from .errors import SourceError
from .security import CSRF_COOKIE, DashAuth
from .sources import DashSources
from .timerange import TimeRange, time_range

logger = logging.getLogger(__name__)
T = TypeVar("T")

NAV = (
    ("overview", "Overview", ""),
    ("dashboards", "Dashboards", "/dashboards"),
    ("alerts", "Alerts", "/alerts"),
    ("anomalies", "Anomalies", "/anomalies"),
    ("rum", "RUM", "/rum"),
    ("bi", "BI", "/bi"),
    ("slos", "SLOs", "/slos"),
    ("health", "Health", "/health"),
    ("incidents", "Incidents", "/incidents"),
    ("traces", "Traces", "/traces"),
    ("logs", "Logs", "/logs"),
)


@dataclass(frozen=True, slots=True)
class Section(Generic[T]):
    """The outcome of reading one source for one part of a page."""

    data: T | None = None
    error: str | None = None
    kind: str = ""  # "unavailable", "rejected", "bug" or "" when fine

    @property
    def ok(self) -> bool:
        return self.error is None


async def attempt(what: str, read: Awaitable[T]) -> Section[T]:
    try:
        return Section(data=await read)
    except SourceError as exc:
        kind = "rejected" if isinstance(exc, ValueError) else "unavailable"
        return Section(error=str(exc), kind=kind)
    except Exception as exc:
        logger.exception("FanzDash could not read %s", what)
        return Section(
            error=f"FanzDash failed reading {what} ({type(exc).__name__}); the server log has details.", kind="bug"
        )


def attempt_sync(what: str, read: Callable[[], T]) -> Section[T]:
    try:
        return Section(data=read())
    except SourceError as exc:
        return Section(error=str(exc), kind="rejected" if isinstance(exc, ValueError) else "unavailable")
    except Exception as exc:
        logger.exception("FanzDash could not read %s", what)
        return Section(
            error=f"FanzDash failed reading {what} ({type(exc).__name__}); the server log has details.", kind="bug"
        )


def _json_script(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` breakout)."""
    text = orjson.dumps(value).decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _asset(name: str) -> tuple[bytes, str]:
    data = (files("fanzwatch.server.dash") / "static" / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:16]


@dataclass
class DashContext:
    """Built once by ``build_dash_router``; handlers get it by closure."""

    get_sources: Callable[[], DashSources | None]
    settings: DashSettings
    auth: DashAuth
    platforms: tuple[str, ...]
    clock: Clock
    prefix: str
    env: Environment = field(init=False)
    assets: dict[str, tuple[bytes, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("fanzwatch.server.dash", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            fmt=formatting.fmt,
            money=formatting.fmt_money,
            amount=formatting.fmt_amount,
            without_emoji=formatting.without_emoji,
            growth=formatting.fmt_growth,
            time=formatting.fmt_time,
            duration=formatting.fmt_duration,
            nanos=formatting.fmt_nanos,
            nano_time=formatting.fmt_nano_time,
            tojson_script=_json_script,
        )
        self.assets = {name: _asset(name) for name in ("fanzdash.js", "fanzdash.css")}

    def sources(self) -> DashSources:
        found = self.get_sources()
        return found if found is not None else DashSources()

    def time_range(self, key: str) -> TimeRange:
        """The range ``key`` ending now, with this server's point budget and scrape interval."""
        return time_range(
            key,
            now=self.clock.now().timestamp(),
            max_points=self.settings.max_points,
            min_step=self.settings.scrape_interval_seconds,
        )

    def url(self, path: str = "") -> str:
        return f"{self.prefix}{path}" or "/"

    def render(
        self, request: Request, template: str, *, page: str, title: str, status: int = 200, **values: Any
    ) -> HTMLResponse:
        csrf, set_cookie = self.auth.csrf_for(request)
        now = self.clock.now()
        html = self.env.get_template(template).render(
            request=request,
            page=page,
            title=title,
            nav=[(key, label, self.url(path)) for key, label, path in NAV],
            prefix=self.prefix,
            asset=lambda name: f"{self.prefix}/static/{name}?v={self.assets[name][1]}",
            csrf=csrf,
            auth=self.auth,
            signed_in=self.auth.signed_in(request),
            principal=self.auth.principal(request),
            Role=Role,
            platforms=self.platforms,
            now=now,
            ago=lambda value: formatting.fmt_ago(value, now=now),
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)
        if set_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                csrf,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
                path=self.prefix or "/",
            )
        return response


_PAGE_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "style-src-attr 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}
