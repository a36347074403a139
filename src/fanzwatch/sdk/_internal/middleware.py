"""``TelemetryMiddleware``: pure ASGI request metrics, server span, request id, user activity.

Pure ASGI (no ``BaseHTTPMiddleware``): it wraps ``send`` to see the status and add
``X-Request-ID``, and reads the matched route from ``scope["route"]``, which
Starlette's router (and FastAPI's) sets on the shared scope when a route matches.
The route TEMPLATE (``/creators/{creator_id}``) is the label, never the raw path;
unmatched paths share ``unmatched``, and a hard cap on distinct series protects
Prometheus even from an app whose templates are unbounded.

The hot path is kept cheap: one header scan, a cached histogram child per
(method, route, status), no per-request dicts when tracing is off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from time import perf_counter
from typing import Any

import anyio.to_thread
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...core.catalog import http
from ...core.platforms import OTHER_PLATFORM
from .process import current_telemetry
from .request_id import REQUEST_ID, REQUEST_PLATFORM, new_request_id, sane_request_id, trace_id_from_traceparent
from .telemetry import Telemetry

logger = logging.getLogger("fanzwatch.sdk.http")
UNMATCHED = "unmatched"
OVERFLOW_ROUTE = "_OTHER"
MAX_SERIES = 2_000
_METHODS = frozenset(m for m in http.HTTP_METHODS if m != "_OTHER")
_X_REQUEST_ID = b"x-request-id"
_TRACEPARENT = b"traceparent"
_DURATION = http.HTTP_SERVER_REQUEST_DURATION.name

UserIdHook = Callable[[Scope], "str | int | None"]
PlatformHook = Callable[[Scope], "str | None"]


def user_id_from_state(scope: Scope) -> str | int | None:
    """Default user hook: ``request.state.user_id``, set by the app's authentication."""
    state = scope.get("state")
    return state.get("user_id") if isinstance(state, dict) else None


class _HeaderGetter(Getter[Iterable[tuple[bytes, bytes]]]):
    def get(self, carrier: Iterable[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.lower().encode("latin-1")
        found = [v.decode("latin-1") for k, v in carrier if k == wanted]
        return found or None

    def keys(self, carrier: Iterable[tuple[bytes, bytes]]) -> list[str]:
        return [k.decode("latin-1") for k, _ in carrier]


_GETTER = _HeaderGetter()


class TelemetryMiddleware:
    """Request duration by route template, server span, request id, active users.

    >>> app = FastAPI()
    >>> app.add_middleware(TelemetryMiddleware, telemetry=telemetry)

    ``max_series`` caps distinct (method, route, status, platform) series; beyond it
    new routes are recorded as ``_OTHER`` (a guard for apps with unbounded mounts).
    ``tracing`` / ``request_id`` default to the telemetry's settings (``tracing``) and
    True; ``user_id`` returns the authenticated user (never a label: it goes on the
    span as ``user.id`` and to the active-users tracker); ``platform`` picks the
    platform label per request (default: the service's platform). A request the hook
    gives no tenant (an admin route, a health probe, a 404) is labelled ``other``: a
    multi-tenant service's own platform is just its first tenant, and counting such
    requests there would charge that tenant with everyone's traffic. The same platform
    goes on the server span as ``fanz.platform``. ``metrics=False`` keeps the spans and
    request ids but records no request metrics (a stand-in for a third party).
    """

    def __init__(
        self,
        app: ASGIApp,
        telemetry: Telemetry | None = None,
        *,
        tracing: bool | None = None,
        request_id: bool = True,
        user_id: UserIdHook | None = user_id_from_state,
        platform: PlatformHook | None = None,
        max_series: int = MAX_SERIES,
        metrics: bool = True,
    ) -> None:
        self.app = app
        self._metrics = metrics
        self._telemetry = telemetry
        self._tracing_opt = tracing
        self._request_id = request_id
        self._user_id = user_id
        self._platform_hook = platform
        self._max_series = max_series
        self._warned_native = False
        self._ready = False
        self._children: dict[tuple[str, str, int, str], tuple[Any, dict[str, str] | None]] = {}

    def _setup(self) -> Telemetry:
        t = self._telemetry if self._telemetry is not None else current_telemetry("TelemetryMiddleware")
        s = t.settings
        self._telemetry = t
        self._hist = t.instruments.histogram(_DURATION)
        self._bounds = t.instruments.bounds[_DURATION]
        self._mirror = t.mirror
        self._business = t.business
        tracing = s.tracing if self._tracing_opt is None else self._tracing_opt
        self._tracer = t.tracer if tracing else None
        self._scan_headers = tracing or self._request_id
        self._excluded = frozenset(s.excluded_paths)
        self._excluded_prefixes = tuple(p.rstrip("/") + "/" for p in s.excluded_paths)
        self._metrics_path = s.metrics_path
        self._slow = s.slow_request_threshold_s
        self._platform = s.platform
        self._ready = True
        return t

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._ready:
            self._setup()
        path: str = scope["path"]
        if path == self._metrics_path and scope["method"] in ("GET", "HEAD"):
            await self._serve_metrics(scope, send)
            return
        if path in self._excluded or path.startswith(self._excluded_prefixes):
            await self.app(scope, receive, send)
            return

        if "fastapi.telemetry" in scope:
            if not self._warned_native and scope["fastapi.telemetry"] is not None:
                self._warned_native = True
                logger.warning(
                    "FastAPI's native telemetry is on as well (it follows the global tracer provider): "
                    "requests get two server spans. Build the app with "
                    "FastAPI(telemetry={'tracing': False, 'metrics': False, 'logs': False}) "
                    "or wrap it: TelemetryMiddleware(app, telemetry)"
                )
        else:
            # When this middleware wraps a FastAPI app from outside, this tells FastAPI that
            # the request is already instrumented (its native telemetry then stays out).
            scope["fastapi.telemetry"] = None

        start = perf_counter()
        method: str = scope["method"]
        raw_rid = traceparent = None
        if self._scan_headers:
            for name, value in scope["headers"]:
                if name == _X_REQUEST_ID:
                    raw_rid = value
                elif name == _TRACEPARENT:
                    traceparent = value

        span = None
        ctx_token = None
        if self._tracer is not None:
            # The W3C propagator only runs when there is a traceparent to read. The span
            # starts without attributes: every attribute goes in with one set_attributes
            # call at the end (each BoundedAttributes pass validates and locks; the
            # samplers we configure do not read attributes).
            parent = propagate.extract(scope["headers"], getter=_GETTER) if traceparent is not None else None
            span = self._tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
            ctx_token = otel_context.attach(trace.set_span_in_context(span, parent))

        rid = None
        rid_token = None
        rid_header: tuple[bytes, bytes] | None = None
        if self._request_id:
            rid = sane_request_id(raw_rid) if raw_rid is not None else None
            if rid is None and traceparent is not None:
                rid = trace_id_from_traceparent(traceparent)
            if rid is None:
                # The new trace id when there is a span (logs and traces join up), else random.
                rid = format(span.get_span_context().trace_id, "032x") if span is not None else new_request_id()
            rid_token = REQUEST_ID.set(rid)
            rid_header = (_X_REQUEST_ID, rid.encode("ascii"))

        platform_token = REQUEST_PLATFORM.set(lambda: self._bounded_platform(scope))
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if rid_header is not None:
                    message["headers"] = [*message.get("headers", ()), rid_header]
            await send(message)

        root_path = scope.get("root_path", "")
        failed = False
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            failed = True
            if status == 0:
                status = 500
            self._on_exception(exc, span, method, path)
            raise
        finally:
            try:
                self._finish(scope, root_path, method, path, status, perf_counter() - start, span, failed, rid)
            except Exception:
                logger.exception("telemetry middleware failed to record a request")
                self._telemetry.count_failure("middleware")  # type: ignore[union-attr]
            if ctx_token is not None:
                otel_context.detach(ctx_token)
            if rid_token is not None:
                REQUEST_ID.reset(rid_token)
            REQUEST_PLATFORM.reset(platform_token)

    def _finish(
        self,
        scope: Scope,
        root_path: str,
        method: str,
        path: str,
        status: int,
        duration: float,
        span: Any,
        failed: bool,
        rid: str | None,
    ) -> None:
        route = scope.get("route")
        if route is None:
            template = UNMATCHED
        else:
            prefix = scope.get("root_path", "")[len(root_path) :]
            if isinstance(route, Mount):
                template = prefix + "/{path}"
            else:
                template = prefix + (_effective_path_format(scope) or _route_path_format(route))
        platform = self._platform if self._platform_hook is None else self._platform_hook(scope) or OTHER_PLATFORM
        uid = self._user_id(scope) if self._user_id is not None else None
        if self._metrics:
            key = (method, template, status, platform)
            cached = self._children.get(key)
            if cached is None:
                cached = self._child(key)
            cached[0].observe(duration)
            if cached[1] is not None and self._mirror is not None:
                self._mirror.record(_DURATION, duration, cached[1])
            if uid is not None and uid != "":
                self._business.mark_user_active(uid, platform=platform)
        if span is not None:
            # One set_attributes call for everything: each call validates and takes the span's lock.
            attrs: dict[str, str | int] = {
                "http.request.method": method,
                "url.path": path,
                "url.scheme": scope.get("scheme", "http"),
                "fanz.platform": self._bounded_platform(scope),
            }
            if rid is not None:
                attrs["fanz.request.id"] = rid
            if route is not None:
                span.update_name(f"{method} {template}")
                attrs["http.route"] = template
            attrs["http.response.status_code"] = status
            if uid is not None:
                attrs["user.id"] = str(uid)
            if status >= 500 and not failed:
                span.set_status(Status(StatusCode.ERROR))
                attrs["error.type"] = str(status)
            span.set_attributes(attrs)
            span.end()
        if duration >= self._slow:
            logger.warning(
                "slow request",
                extra={"http_method": method, "http_route": template, "status_code": status, "duration_s": duration},
            )

    def _bounded_platform(self, scope: Scope) -> str:
        """The request's platform as its label and span attribute show it (unknown: ``other``)."""
        raw = self._platform if self._platform_hook is None else self._platform_hook(scope) or OTHER_PLATFORM
        return self._bounds.bound("platform", raw)

    def _child(self, key: tuple[str, str, int, str]) -> tuple[Any, dict[str, str] | None]:
        method, template, status, platform = key
        if len(self._children) >= self._max_series:
            template = OVERFLOW_ROUTE
            if (method, template, status, platform) in self._children:
                return self._children[(method, template, status, platform)]
            logger.warning("more than %d HTTP series: new routes are recorded as %s", self._max_series, OVERFLOW_ROUTE)
        code = str(status) if 100 <= status <= 599 else "_OTHER"
        labels = {
            "platform": self._bounds.bound("platform", platform),
            "http_request_method": method if method in _METHODS else "_OTHER",
            "http_route": template,
            "http_response_status_code": code,
            "status_class": f"{status // 100}xx" if 100 <= status <= 599 else "5xx",
        }
        child = (self._hist.labels(**labels), labels if self._mirror is not None else None)
        self._children[key] = child
        return child

    def _on_exception(self, exc: Exception, span: Any, method: str, path: str) -> None:
        try:
            if span is not None:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                span.set_attribute("error.type", type(exc).__name__)
            self._business.record_error(error=exc, severity="critical")
            logger.exception("unhandled exception", extra={"http_method": method, "url_path": path})
        except Exception:
            logger.exception("telemetry middleware failed to record an exception")

    async def _serve_metrics(self, scope: Scope, send: Send) -> None:
        accept = ""
        for name, value in scope["headers"]:
            if name == b"accept":
                accept = value.decode("latin-1")
        assert self._telemetry is not None
        try:
            body, content_type = await anyio.to_thread.run_sync(self._telemetry.render_metrics, accept)
            status = 200
        except Exception:
            logger.exception("rendering /metrics failed")
            self._telemetry.count_failure("exposition")
            body, content_type, status = b"metrics unavailable\n", "text/plain; charset=utf-8", 503
        headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _route_path_format(route: Any) -> str:
    fmt = getattr(route, "path_format", None) or getattr(route, "path", None)
    return fmt if isinstance(fmt, str) else UNMATCHED


def _effective_path_format(scope: Scope) -> str | None:
    """The full template of a route FastAPI reached through ``include_router(prefix=...)``.

    Since FastAPI 0.16x an included route is no longer copied with its prefix: the
    route object in ``scope["route"]`` keeps its own path, and the prefixed template
    lives in FastAPI's per-request "effective route context".
    """
    fastapi_scope = scope.get("fastapi")
    if not fastapi_scope:
        return None
    context = fastapi_scope.get("effective_route_context")
    if context is None:
        return None
    starlette_route = getattr(context, "starlette_route", None)
    fmt = getattr(starlette_route, "path_format", None) or getattr(context, "path_format", None)
    return fmt if isinstance(fmt, str) else None
