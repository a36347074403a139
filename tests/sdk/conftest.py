"""Fixtures of the SDK tests: a fresh in-memory telemetry and a small instrumented app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Request
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fanzwatch.sdk import TelemetryMiddleware, record_payment
from fanzwatch.sdk.testing import TelemetryCapture, capture_telemetry


@pytest.fixture
def cap() -> Iterator[TelemetryCapture]:
    with capture_telemetry(service_name="test-svc", platform="fanz-1", slow_request_threshold_s=0.05) as capture:
        yield capture


def build_app(cap: TelemetryCapture, **middleware: object) -> FastAPI:
    """A FANZ-like app: templated routes, a router with a prefix, a mount, errors."""
    app = FastAPI()
    api = APIRouter(prefix="/api")

    @api.get("/creators/{creator_id}")
    def creator(creator_id: int, request: Request) -> dict[str, int]:
        request.state.user_id = f"user-{creator_id % 3}"
        return {"creator_id": creator_id}

    @api.post("/payments")
    def pay(request: Request) -> dict[str, str]:
        record_payment(amount=Decimal("9.99"), currency="USD", payment_type="tip", status="completed")
        return {"status": "ok"}

    app.include_router(api)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("database exploded")

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(status_code=418, detail="short and stout")

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        import anyio

        await anyio.sleep(0.06)
        return {"status": "done"}

    @app.get("/health/ready")
    def ready() -> dict[str, str]:
        return {"status": "pass"}

    static = Starlette(routes=[Route("/files/{name}", lambda r: PlainTextResponse("file"))])
    app.mount("/static", static)
    app.add_middleware(TelemetryMiddleware, telemetry=cap.telemetry, **middleware)  # type: ignore[arg-type]
    return app


@pytest.fixture
async def client(cap: TelemetryCapture) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(cap), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


HTTP = "http_server_request_duration_seconds"


def http_labels(route: str, status: int, method: str = "GET", platform: str = "fanz-1") -> dict[str, str]:
    return {
        "platform": platform,
        "http_request_method": method,
        "http_route": route,
        "http_response_status_code": str(status),
        "status_class": f"{status // 100}xx",
    }
