"""Fixtures of the demo tests: a real processor over HTTP, and the platform app in process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from fanzwatch.demo.platform import PlatformConfig, create_platform_app
from fanzwatch.demo.processor import ProcessorConfig, create_processor_app
from fanzwatch.sdk.testing import TelemetryCapture, capture_telemetry

PLATFORMS = ("fanz-1", "fanz-2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class ServedApp:
    url: str
    server: uvicorn.Server


def serve_in_thread(app: FastAPI) -> Iterator[ServedApp]:
    """Run ``app`` with uvicorn on a free loopback port in a thread, for real HTTP."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start within 30 s")
        time.sleep(0.01)
    try:
        yield ServedApp(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def processor() -> Iterator[ServedApp]:
    yield from serve_in_thread(create_processor_app(ProcessorConfig(seed=42)))


@pytest.fixture
def telemetry() -> Iterator[TelemetryCapture]:
    with capture_telemetry(service_name="fanz-demo-platform", platforms=PLATFORMS, platform="fanz-1") as cap:
        yield cap


def platform_config(tmp_path: Path, processor_url: str, database_url: str | None = None) -> PlatformConfig:
    return PlatformConfig(
        database_url=database_url or f"sqlite:///{tmp_path / 'platform.db'}",
        storage_dir=tmp_path / "objects",
        processor_url=processor_url,
        platforms=PLATFORMS,
        password_hash_cost=2**4,  # fast hashing in tests; the default is 2**14
        upload_limits={"image": 4096, "video": 8192, "audio": 4096, "text": 1024},
        processor_timeout_seconds=1.0,
        health_max_age_seconds=0.0,
        rum_script_url="http://127.0.0.1:8900/rum/fanz-rum.js",
    )


@pytest.fixture
def platform_app(tmp_path: Path, processor: ServedApp, telemetry: TelemetryCapture) -> FastAPI:
    return create_platform_app(platform_config(tmp_path, processor.url), telemetry=telemetry.telemetry)


@pytest.fixture
async def client(platform_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with platform_app.router.lifespan_context(platform_app):
        transport = httpx.ASGITransport(app=platform_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as c:
            yield c
