"""TelemetryMiddleware: exact metrics by route template, spans, request ids, errors, exclusions."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router

from fanzwatch.sdk import TelemetryMiddleware
from fanzwatch.sdk.testing import TelemetryCapture

from .conftest import HTTP, build_app, http_labels

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


async def test_duration_is_recorded_in_seconds_by_route_template(
    cap: TelemetryCapture, client: httpx.AsyncClient
) -> None:
    for creator_id in (1, 2, 3):
        assert (await client.get(f"/api/creators/{creator_id}")).status_code == 200

    labels = http_labels("/api/creators/{creator_id}", 200)
    assert cap.get_sample_value(f"{HTTP}_count", labels) == 3
    assert cap.get_sample_value(f"{HTTP}_bucket", {**labels, "le": "+Inf"}) == 3
    # /slow sleeps 60 ms: in seconds it lands above the 0.05 bucket and sums to ~0.06,
    # where milliseconds would sum to ~60.
    await client.get("/slow")
    slow = http_labels("/slow", 200)
    assert cap.get_sample_value(f"{HTTP}_bucket", {**slow, "le": "0.05"}) == 0
    assert cap.get_sample_value(f"{HTTP}_bucket", {**slow, "le": "10.0"}) == 1
    assert 0.06 <= (cap.get_sample_value(f"{HTTP}_sum", slow) or 0) < 5
    # No raw path ever becomes a label.
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/api/creators/1", 200)) is None


async def test_the_otel_mirror_records_the_same_histogram(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    await client.get("/api/creators/7")
    await client.get("/api/creators/8")
    points = cap.otel_points(HTTP)
    point = points[frozenset(http_labels("/api/creators/{creator_id}", 200).items())]
    assert point.count == 2
    assert list(point.explicit_bounds) == [
        0.005,
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.25,
        0.5,
        0.75,
        1.0,
        1.25,
        1.5,
        2.0,
        2.5,
        5.0,
        7.5,
        10.0,
    ]
    assert cap.otel_metrics()[HTTP].unit == "s"


async def test_server_span_has_route_status_and_request_id(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/creators/5")
    span = cap.span("GET /api/creators/{creator_id}")
    assert span.kind is SpanKind.SERVER
    assert span.parent is None
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.path": "/api/creators/5",
        "url.scheme": "http",
        "fanz.platform": "fanz-1",
        "fanz.request.id": response.headers["x-request-id"],
        "http.route": "/api/creators/{creator_id}",
        "http.response.status_code": 200,
        "user.id": "user-2",
    }
    # Without an incoming id, the request id IS the new trace id: logs and traces join up.
    assert response.headers["x-request-id"] == format(span.context.trace_id, "032x")


async def test_unmatched_paths_share_one_label(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    for i in range(5):
        assert (await client.get(f"/no/such/{i}")).status_code == 404
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("unmatched", 404)) == 5
    assert [s.name for s in cap.spans()] == ["GET"] * 5  # semconv: method only when no route


async def test_mounted_app_routes_are_labelled_with_the_full_template(
    cap: TelemetryCapture, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/static/files/report.pdf")).status_code == 200
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/static/files/{name}", 200)) == 1


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> int:
    """Drive an ASGI app directly (no client overhead) and return the status."""
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers or [],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return status


@pytest.mark.slow
async def test_ten_thousand_distinct_ids_make_a_bounded_number_of_series(cap: TelemetryCapture) -> None:
    async def creator(request: Any) -> PlainTextResponse:
        return PlainTextResponse(request.path_params["creator_id"])

    # A plain Starlette app keeps 10,000 requests quick; the routing rules are the same.
    app = TelemetryMiddleware(
        Starlette(routes=[Route("/api/creators/{creator_id}", creator)]), cap.telemetry, tracing=False
    )
    for i in range(5_000):
        assert await _call(app, f"/api/creators/{i}") == 200
        assert await _call(app, f"/users/{i}/profile") == 404

    series = {
        tuple(sorted(s.labels.items()))
        for family in cap.telemetry.registry.collect()
        if family.name == HTTP
        for s in family.samples
        if s.name == f"{HTTP}_count"
    }
    assert len(series) == 2
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/api/creators/{creator_id}", 200)) == 5_000
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("unmatched", 404)) == 5_000


async def test_series_cap_protects_against_unbounded_templates(cap: TelemetryCapture) -> None:
    # A mount with a parameter puts the real tenant in the prefix: the cap must hold.
    inner = Router(routes=[Route("/items", lambda r: PlainTextResponse("ok"))])
    app = TelemetryMiddleware(
        Starlette(routes=[Mount("/t/{tenant}", app=inner)]), cap.telemetry, tracing=False, max_series=10
    )
    for i in range(50):
        assert await _call(app, f"/t/{i}/items") == 200
    counts = [
        s
        for family in cap.telemetry.registry.collect()
        if family.name == HTTP
        for s in family.samples
        if s.name == f"{HTTP}_count"
    ]
    assert len(counts) == 11
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("_OTHER", 200)) == 40


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("req-123_abc.DEF:9", True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("x" * 20_000, False),
        ("bad id with spaces", False),
        ("<script>alert(1)</script>", False),
        ("café", False),
    ],
)
async def test_x_request_id_is_accepted_only_when_sane(
    cap: TelemetryCapture, client: httpx.AsyncClient, header: str, kept: bool
) -> None:
    response = await client.get("/api/creators/1", headers=[(b"X-Request-ID", header.encode("utf-8"))])
    assert response.status_code == 200
    rid = response.headers["x-request-id"]
    if kept:
        assert rid == header
    else:
        assert rid != header
        assert rid == format(cap.spans()[-1].context.trace_id, "032x")


async def test_valid_traceparent_continues_the_trace(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    response = await client.get("/api/creators/1", headers={"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"})
    assert response.status_code == 200
    span = cap.spans()[-1]
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == PARENT_ID
    assert span.parent.is_remote
    assert response.headers["x-request-id"] == TRACE_ID


@pytest.mark.parametrize(
    "traceparent",
    [
        "garbage",
        f"00-{TRACE_ID}-{PARENT_ID}",
        f"00-{'0' * 32}-{PARENT_ID}-01",
        f"ff-{TRACE_ID}-{PARENT_ID}-01",
        f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
        "00-" + "z" * 5000,
    ],
)
async def test_malformed_traceparent_starts_a_new_trace_cleanly(
    cap: TelemetryCapture, client: httpx.AsyncClient, traceparent: str
) -> None:
    response = await client.get("/api/creators/1", headers={"traceparent": traceparent})
    assert response.status_code == 200
    assert response.json() == {"creator_id": 1}
    span = cap.spans()[-1]
    assert span.parent is None
    assert format(span.context.trace_id, "032x") != TRACE_ID
    assert response.headers["x-request-id"] == format(span.context.trace_id, "032x")


async def test_an_unhandled_exception_is_recorded_counted_logged_and_re_raised(
    cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(cap)
    with caplog.at_level(logging.ERROR, logger="fanzwatch.sdk.http"):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            with pytest.raises(RuntimeError, match="database exploded"):
                await c.get("/boom")

    errors = {"platform": "fanz-1", "error_type": "RuntimeError", "service": "test-svc", "severity": "critical"}
    assert cap.get_sample_value("fanz_errors_total", errors) == 1
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/boom", 500)) == 1
    span = cap.span("GET /boom")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "RuntimeError"
    assert [e.name for e in span.events] == ["exception"]
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["exception.message"] == "database exploded"
    [record] = [r for r in caplog.records if r.message == "unhandled exception"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


async def test_http_errors_handled_by_the_app_are_not_exceptions(
    cap: TelemetryCapture, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/teapot")).status_code == 418
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/teapot", 418)) == 1
    assert (
        cap.get_sample_value(
            "fanz_errors_total",
            {"platform": "fanz-1", "error_type": "HTTPException", "service": "test-svc", "severity": "critical"},
        )
        is None
    )
    assert cap.span("GET /teapot").status.status_code is StatusCode.UNSET


async def test_health_and_metrics_are_excluded(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    assert (await client.get("/health/ready")).status_code == 200
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "x-request-id" not in response.headers
    assert "http_server_request_duration_seconds" in response.text
    assert cap.spans() == ()
    assert 'http_route="/health/ready"' not in response.text
    assert 'http_route="/metrics"' not in response.text


async def test_metrics_endpoint_negotiates_openmetrics(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_slow_requests_log_a_structured_warning(
    cap: TelemetryCapture, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="fanzwatch.sdk.http"):
        await client.get("/api/creators/1")
        await client.get("/slow")
    [record] = [r for r in caplog.records if r.message == "slow request"]
    assert record.http_route == "/slow"  # type: ignore[attr-defined]
    assert record.http_method == "GET"  # type: ignore[attr-defined]
    assert record.status_code == 200  # type: ignore[attr-defined]
    assert record.duration_s >= 0.05  # type: ignore[attr-defined]


async def test_user_activity_goes_to_span_and_distinct_active_users(
    cap: TelemetryCapture, client: httpx.AsyncClient
) -> None:
    for creator_id in range(6):  # users user-0, user-1, user-2, twice each
        await client.get(f"/api/creators/{creator_id}")
    assert cap.get_sample_value("fanz_active_users", {"platform": "fanz-1"}) == 3
    assert cap.get_sample_value("fanz_active_users", {"platform": "fanz-2"}) == 0
    assert {(s.attributes or {})["user.id"] for s in cap.spans()} == {"user-0", "user-1", "user-2"}


async def test_metrics_only_mode_makes_no_span_and_no_request_id(cap: TelemetryCapture) -> None:
    transport = httpx.ASGITransport(app=build_app(cap, tracing=False, request_id=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/api/creators/1")
    assert "x-request-id" not in response.headers
    assert cap.spans() == ()
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/api/creators/{creator_id}", 200)) == 1


async def test_unknown_methods_are_bounded(cap: TelemetryCapture, client: httpx.AsyncClient) -> None:
    response = await client.request("PURGE", "/api/creators/1")
    assert response.status_code == 405
    labels = http_labels("/api/creators/{creator_id}", 405, method="_OTHER")
    assert cap.get_sample_value(f"{HTTP}_count", labels) == 1


def _native_app(cap: TelemetryCapture) -> Any:
    from fastapi import FastAPI

    app = FastAPI(telemetry={"tracer_provider": cap.telemetry.tracer_provider, "operation_spans": False})

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return app


async def test_wrapping_a_fastapi_app_keeps_its_native_telemetry_out(cap: TelemetryCapture) -> None:
    app = TelemetryMiddleware(_native_app(cap), cap.telemetry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/items/3")).status_code == 200
    assert [s.name for s in cap.spans()] == ["GET /items/{item_id}"]
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/items/{item_id}", 200)) == 1


async def test_native_fastapi_telemetry_inside_is_reported_once(
    cap: TelemetryCapture, caplog: pytest.LogCaptureFixture
) -> None:
    app = _native_app(cap)
    app.add_middleware(TelemetryMiddleware, telemetry=cap.telemetry)
    with caplog.at_level(logging.WARNING, logger="fanzwatch.sdk.http"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            await c.get("/items/1")
            await c.get("/items/2")
    assert len([r for r in caplog.records if "native telemetry is on as well" in r.message]) == 1
    # Both layers made a server span: exactly what the warning says.
    assert sorted(s.name for s in cap.spans()) == ["GET /items/{item_id}"] * 4


async def test_routers_included_with_a_prefix_are_labelled_with_the_full_template(cap: TelemetryCapture) -> None:
    # FastAPI >= 0.16x no longer copies included routes with their prefix: the middleware
    # must read the effective template, or "/p/{platform}/auth/register" becomes "/auth/register".
    from fastapi import APIRouter, FastAPI

    app = FastAPI(telemetry={"tracing": False, "metrics": False, "logs": False})
    inner = APIRouter(prefix="/auth")

    @inner.post("/register")
    def register() -> dict[str, str]:
        return {}

    outer = APIRouter()

    @outer.get("/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.include_router(inner, prefix="/p/{platform}")
    app.include_router(outer, prefix="/api/v1")
    app.add_middleware(TelemetryMiddleware, telemetry=cap.telemetry)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.post("/p/fanz-1/auth/register")).status_code == 200
        assert (await client.get("/api/v1/items/7")).status_code == 200
    register_labels = http_labels("/p/{platform}/auth/register", 200) | {"http_request_method": "POST"}
    assert cap.get_sample_value(f"{HTTP}_count", register_labels) == 1
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/api/v1/items/{item_id}", 200)) == 1
    assert cap.get_sample_value(f"{HTTP}_count", http_labels("/items/{item_id}", 200)) is None


async def test_spans_only_mode_and_a_bounded_platform_attribute(cap: TelemetryCapture) -> None:
    app = build_app(cap, metrics=False, platform=lambda scope: "not-a-tenant", user_id=None)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        assert (await c.get("/api/creators/4")).status_code == 200
    span = cap.span("GET /api/creators/{creator_id}")
    assert span.attributes is not None
    assert span.attributes["fanz.platform"] == "other"  # bounded like the label: not the raw value
    assert span.attributes["http.route"] == "/api/creators/{creator_id}"
    body = cap.telemetry.render_metrics()[0].decode()
    assert f"{HTTP}_count" not in body
