"""``AuthMiddleware``: every request gets a principal, and every route the policy's role.

Pure ASGI, in front of routing: the route is found by the app's own route table (so a
route added by any feature is covered), the caller is identified by a bearer token or
the FanzDash session cookie, and the request goes on only if the principal's role is
enough. Refusals say what to do: 401 with ``WWW-Authenticate: Bearer`` to an anonymous
API caller, a redirect to the sign-in page for a FanzDash page, 403 naming the role
needed to a caller whose role is too low. Tokens are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from urllib.parse import quote

import orjson
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from .authenticator import Authenticator
from .policy import RoutePolicy, RouteTemplate, find_template, route_templates
from .roles import Principal, Role

logger = logging.getLogger(__name__)


class AuthMiddleware:
    """``app.add_middleware(AuthMiddleware, auth=authenticator, policy=policy, routes=lambda: app.routes)``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: Authenticator,
        policy: RoutePolicy,
        routes: Callable[[], Sequence[BaseRoute]],
        dash_prefix: str = "/dash",
    ) -> None:
        self.app = app
        self.auth = auth
        self.policy = policy
        self._routes = routes
        self._templates: list[RouteTemplate] | None = None
        self._route_count = -1
        self._dash = dash_prefix.rstrip("/")

    def templates(self) -> list[RouteTemplate]:
        routes = self._routes()
        if self._templates is None or len(routes) != self._route_count:
            self._templates = route_templates(routes)
            self._route_count = len(routes)
        return self._templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        principal = self.auth.identify(scope)
        scope.setdefault("state", {})["principal"] = principal
        method: str = scope.get("method", "GET")
        path: str = scope["path"]
        template = find_template(self.templates(), path, method) or path
        required = self.policy.required(method, template)
        if principal.allows(required):
            await self.app(scope, receive, send)
            return
        assert required is not None
        await self._refuse(scope, send, principal, required, method, path)

    async def _refuse(
        self, scope: Scope, send: Send, principal: Principal, required: Role, method: str, path: str
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        reason = self.auth.refusal(principal, required)
        in_dash = path == self._dash or path.startswith(self._dash + "/")
        if in_dash and method in ("GET", "HEAD") and not principal.authenticated:
            query = scope.get("query_string", b"").decode("latin-1")
            target = quote(path + (f"?{query}" if query else ""))
            await _respond(send, 303, b"", [(b"location", f"{self._dash}/login?next={target}".encode())])
            return
        status = 403 if principal.authenticated or self.auth.open_loopback else 401
        headers = [(b"www-authenticate", b'Bearer realm="fanzwatch"')] if status == 401 else []
        if in_dash:
            body = _dash_page(reason, self._dash, path, signed_in=principal.authenticated)
            await _respond(send, status, body, [(b"content-type", b"text/html; charset=utf-8"), *headers])
            return
        payload = {"detail": reason, "required_role": required.label}
        await _respond(send, status, orjson.dumps(payload), [(b"content-type", b"application/json"), *headers])


def _dash_page(reason: str, prefix: str, path: str, *, signed_in: bool) -> bytes:
    from html import escape

    action = "Sign in with another token" if signed_in else "Sign in"
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Not allowed · FanzDash</title>"
        f'<link rel="stylesheet" href="{escape(prefix)}/static/fanzdash.css">'
        f'<main class="narrow"><h1>Not allowed</h1><p>{escape(reason)}</p>'
        f'<p><a href="{escape(prefix)}/login?next={quote(prefix + "/")}">{action}</a></p></main></html>'
    ).encode()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    base = [(b"content-length", b"%d" % len(body)), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": base + headers})
    await send({"type": "http.response.body", "body": body})
