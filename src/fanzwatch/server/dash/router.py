"""``build_dash_router``: every FanzDash page under one prefix, plus sign-in and assets.

Wiring (in the server's ``create_app``)::

    dash_settings = DashSettings()
    app.include_router(
        build_dash_router(
            lambda: getattr(app.state, "dash_sources", None),
            dash_settings,
            platforms=settings.platforms,
            bind_host=settings.host,
        )
    )
    # lifespan: app.state.dash_sources = DashSources(...)  (see docs/fanzdash.md)

Pages are server-rendered HTML that work without JavaScript; ``static/fanzdash.js``
(built from ``web/fanzdash/``) draws the charts with uPlot, applies pickers as they change
and refreshes the page's data in place.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from ...core.clock import Clock, SystemClock
from ...settings.dash import DashSettings
from . import page_alerts, page_anomalies, page_bi, page_health, page_overview, page_rum
from .context import DashContext
from .security import CSRF_FIELD, SESSION_COOKIE, AccessDeniedError, DashAuth
from .sources import DashSources

DEFAULT_PREFIX = "/dash"
_OPEN_PATHS = ("/login", "/static/")
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
    bind_host: str,
    clock: Clock | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> APIRouter:
    """FanzDash's routes under ``prefix``.

    ``get_sources`` returns the sources built in the lifespan (``None`` before it ran:
    pages then show every source as not configured). ``bind_host`` is the address the
    server listens on: a non-loopback address makes the server *exposed* (see
    ``security``). Nothing is started or connected here.
    """
    token = settings.token.get_secret_value() if settings.token is not None else None
    ctx = DashContext(
        get_sources=get_sources,
        settings=settings,
        auth=DashAuth.create(token, bind_host=bind_host),
        platforms=platforms,
        clock=clock or SystemClock(),
        prefix=prefix.rstrip("/"),
    )

    class DashRoute(APIRoute):
        """Checks that the viewer may see FanzDash before any page handler runs."""

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                path = request.url.path[len(ctx.prefix) :]
                if not path.startswith(_OPEN_PATHS) and not ctx.auth.can_view(request):
                    target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                    return RedirectResponse(ctx.url(f"/login?next={target}"), status_code=303)
                return await handler(request)

            return guarded

    router = APIRouter(prefix=ctx.prefix, tags=["fanzdash"], route_class=DashRoute, include_in_schema=False)
    for module in (page_overview, page_alerts, page_anomalies, page_rum, page_bi, page_health):
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
        try:
            ctx.auth.check_csrf(request, values.get(CSRF_FIELD, ""))
        except AccessDeniedError as exc:
            problem, status = str(exc), 403
        if problem is None and not ctx.auth.sign_in_enabled:
            problem, status = "This server has no FanzDash token, so there is nothing to sign in to.", 400
        if problem is None and not ctx.auth.check_token(values.get("token", "")):
            problem = "That is not the FanzDash token (FANZWATCH_DASH_TOKEN)."
        if problem is not None:
            return ctx.render(
                request, "login.html", page="login", title="Sign in", status=status, next=target, problem=problem
            )
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            ctx.auth.session_value(),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=ctx.prefix or "/",
            max_age=12 * 3600,
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
