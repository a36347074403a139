"""A FANZ-like service for the end-to-end test: real uvicorn, OTLP export, auto-instrumented httpx.

Configured by the standard OTEL_* variables only (plus DOWNSTREAM_URL).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from fanzwatch.sdk import TelemetryMiddleware, init_telemetry, record_upload, trace_operation

telemetry = init_telemetry()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    telemetry.shutdown()  # flushes the batch span processor and the OTLP metrics reader


# FastAPI's native telemetry follows the global tracer provider: leave server spans to fanzwatch.
app = FastAPI(lifespan=lifespan, telemetry={"tracing": False, "metrics": False, "logs": False})


@app.post("/creators/{creator_id}/uploads")
async def upload(creator_id: int, request: Request) -> dict[str, object]:
    request.state.user_id = f"creator-{creator_id}"
    with trace_operation("upload.store"):
        async with httpx.AsyncClient() as client:  # auto-instrumented: traceparent goes downstream
            await client.get(os.environ["DOWNSTREAM_URL"])
    record_upload(content_type="video", creator_tier="verified")
    return {
        "same_telemetry": init_telemetry() is telemetry,
        "global_provider": trace.get_tracer_provider() is telemetry.tracer_provider
        and isinstance(telemetry.tracer_provider, TracerProvider),
    }


@app.get("/health/live")
def live() -> dict[str, str]:
    return {"status": "pass"}


app.add_middleware(TelemetryMiddleware, telemetry=telemetry)
