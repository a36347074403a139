"""``build_dash_router``: every FanzDash page under one prefix, plus sign-in and assets.

Wiring (in the server's ``create_app``)::

    dash_settings = DashSettings()
    app.include_router(
        build_dash_router(
            lambda: getattr(app.state, "dash_sources", None),
            dash_settings,
            platforms=settings.platforms,
            auth=authenticator,  # the server's; its AuthMiddleware enforces the route policy
        )
    )
    # lifespan: app.state.dash_sources = DashSources(...)  (see docs/fanzdash.md)

Pages are server-rendered HTML that work without JavaScript; ``static/fanzdash.js``
(built from ``web/fanzdash/``) draws the charts with uPlot, applies pickers as they change
and refreshes the page's data in place.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ...core.clock import Clock, SystemClock
from ...settings.dash import DashSettings
from ..auth import Authenticator
from . import (
    page_alerts,
    page_anomalies,
    page_bi,
    page_health,
    page_incidents,
    page_logs,
    page_overview,
    page_rum,
    page_slos,
    page_traces,
)
from .context import DashContext
from .security import CSRF_FIELD, SESSION_COOKIE, AccessDeniedError, DashAuth
from .sources import DashSources

DEFAULT_PREFIX = "/dash"
_MEDIA = {"fanzdash.js": "text/javascript; charset=utf-8", "fanzdash.css": "text/css; charset=utf-8"}


def _safe_next(ctx: DashContext, value: str | None) -> str:
    """Only our own pages are valid targets after signing in (no open redirect)."""
    if value and value.startswith(ctx.prefix + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return ctx.url("/")


def build_dash_router(
    get_sources: Callable[[], DashSources | None],
    settings: DashSettings,
    *,
    platforms: tuple[str, ...],
    auth: Authenticator,
    clock: Clock | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> APIRouter:
    """FanzDash's routes under ``prefix``.

    ``get_sources`` returns the sources built in the lifespan (``None`` before it ran:
    pages then show every source as not configured). ``auth`` is the server's
    ``Authenticator``: who may see which page is its ``AuthMiddleware``'s decision,
    FanzDash signs people in with it. Nothing is started or connected here.
    """
    ctx = DashContext(
        get_sources=get_sources,
        settings=settings,
        auth=DashAuth(auth),
        platforms=platforms,
        clock=clock or SystemClock(),
        prefix=prefix.rstrip("/"),
    )

    router = APIRouter(prefix=ctx.prefix, tags=["fanzdash"], include_in_schema=False)
    for module in (
        page_overview,
        page_alerts,
        page_anomalies,
        page_rum,
        page_bi,
        page_slos,
        page_health,
        page_incidents,
        page_traces,
        page_logs,
    ):
        module.register(router, ctx)

    @router.get("/static/{name}")
    async def asset(request: Request, name: str) -> Response:
        found = ctx.assets.get(name)
        if found is None:
            return Response("not found", status_code=404, media_type="text/plain")
        body, digest = found
        etag = f'"{digest}"'
        cache = "public, max-age=31536000, immutable" if request.query_params.get("v") == digest else "no-cache"
        headers = {"etag": etag, "cache-control": cache, "x-content-type-options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=_MEDIA[name], headers=headers)

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> HTMLResponse:
        return ctx.render(
            request,
            "login.html",
            page="login",
            title="Sign in",
            next=_safe_next(ctx, request.query_params.get("next")),
            problem=None,
        )

    @router.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        target = _safe_next(ctx, values.get("next"))
        problem: str | None = None
        status = 401
        session: str | None = None
        try:
            ctx.auth.check_csrf(request, values.get(CSRF_FIELD, ""))
        except AccessDeniedError as exc:
            problem, status = str(exc), 403
        if problem is None and not ctx.auth.sign_in_enabled:
            problem, status = "Authentication is off on this server (insecure open loopback): no need to sign in.", 400
        if problem is None:
            signed = ctx.auth.sign_in(values.get("token", "")[:4096])
            if signed is None:
                problem = "That token is not a viewer, responder or admin token of this server."
            else:
                session = signed[1]
        if problem is not None or session is None:
            return ctx.render(
                request, "login.html", page="login", title="Sign in", status=status, next=target, problem=problem
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=ctx.prefix or "/",
            max_age=ctx.auth.auth.session_seconds,
        )
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        try:
            ctx.auth.check_csrf(request, submitted if isinstance(submitted, str) else "")
        except AccessDeniedError as exc:
            return Response(str(exc), status_code=403, media_type="text/plain")
        response = RedirectResponse(ctx.url("/login"), status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=ctx.prefix or "/")
        return response

    return router
