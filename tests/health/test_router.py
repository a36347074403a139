"""The endpoints, served by uvicorn over real HTTP: health+json, probes, status codes."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from fanzwatch.core import FrozenClock, HealthStatus
from fanzwatch.health import DiskCheck, HealthCheckRunner, HttpCheck, RedisCheck, SqlCheck, build_router
from fanzwatch.health.testing import InMemoryCheck

from ._servers import CountingHttpServer, serving

T0 = "2026-01-01T00:00:00.000Z"


def make_app(runner: HealthCheckRunner, **ident: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runner:
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_router(runner, **ident))
    return app


async def test_health_json_document(registry: CollectorRegistry, clock: FrozenClock) -> None:
    db = InMemoryCheck("db", observed_value=0.0123456789)
    cache = InMemoryCheck("cache", status=HealthStatus.FAIL, output="connection refused", critical=False)
    runner = HealthCheckRunner([db, cache], registry=registry, clock=clock)
    app = make_app(runner, service_id="fanz-api", version="1.2.3")
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/health")
    assert response.status_code == 200  # a non-critical failure only warns
    assert response.headers["content-type"] == "application/health+json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "status": "warn",
        "version": "1.2.3",
        "serviceId": "fanz-api",
        "checks": {
            "db:status": [
                {
                    "componentType": "component",
                    "observedValue": 0.012346,
                    "observedUnit": "s",
                    "status": "pass",
                    "time": T0,
                    "critical": True,
                }
            ],
            "cache:status": [
                {
                    "componentType": "component",
                    "status": "fail",
                    "time": T0,
                    "output": "connection refused",
                    "critical": False,
                }
            ],
        },
    }


async def test_critical_failure_is_503_and_liveness_stays_200(registry: CollectorRegistry) -> None:
    db = InMemoryCheck("db", status=HealthStatus.FAIL, output="gone")
    cache = InMemoryCheck("cache", critical=False)
    runner = HealthCheckRunner([db, cache], registry=registry)
    async with serving(make_app(runner)) as base, httpx.AsyncClient(base_url=base) as client:
        health, ready, live = [await client.get(p) for p in ("/health", "/health/ready", "/health/live")]
        assert (health.status_code, health.json()["status"]) == (503, "fail")
        assert (ready.status_code, ready.json()["status"]) == (503, "fail")
        assert list(ready.json()["checks"]) == ["db:status"]  # readiness: critical checks only
        assert (live.status_code, live.json()) == (200, {"status": "pass"})
        assert live.headers["content-type"] == "application/health+json"

        db.set(HealthStatus.PASS)
        await runner.run_now()
        assert (await client.get("/health/ready")).status_code == 200


async def test_liveness_never_runs_a_check(registry: CollectorRegistry) -> None:
    db = InMemoryCheck("db")
    runner = HealthCheckRunner([db], registry=registry)
    app = FastAPI()  # no lifespan: nothing runs in the background
    app.include_router(build_router(runner))
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        for _ in range(5):
            assert (await client.get("/health/live")).status_code == 200
    assert db.calls == 0


async def test_one_check_by_name(registry: CollectorRegistry, clock: FrozenClock) -> None:
    db = InMemoryCheck("db")
    cache = InMemoryCheck("cache", status=HealthStatus.FAIL, output="down", critical=False)
    runner = HealthCheckRunner([db, cache], registry=registry, clock=clock)
    async with serving(make_app(runner)) as base, httpx.AsyncClient(base_url=base) as client:
        ok = await client.get("/health/checks/db")
        assert ok.status_code == 200
        assert ok.json() == {
            "status": "pass",
            "checks": {"db:status": [{"componentType": "component", "status": "pass", "time": T0, "critical": True}]},
        }
        down = await client.get("/health/checks/cache")
        assert down.status_code == 503  # alone, a check shows its own status
        assert down.json()["status"] == "fail"
        missing = await client.get("/health/checks/nope")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "no health check named 'nope'; known checks: cache, db"}


async def test_router_mounts_under_another_prefix_and_lifespan_starts_the_runner(registry: CollectorRegistry) -> None:
    db = InMemoryCheck("db")
    runner = HealthCheckRunner([db], registry=registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runner:
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_router(runner, prefix="/internal/health"))
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/internal/health")).json()["status"] == "pass"
        assert (await client.get("/health")).status_code == 404
        assert runner.running
        assert db.calls == 1  # the start-up run, shared or cached: the request added none
    assert db.closed


@pytest.mark.redis
def test_an_app_restarted_in_a_new_event_loop_keeps_working(
    registry: CollectorRegistry, tmp_path: Path, http_dependency: CountingHttpServer
) -> None:
    # TestClient runs each `with` block in its own event loop, like a server restart in-process:
    # clients, pools and thread limiters must not stay bound to the first loop.
    with closing(sqlite3.connect(tmp_path / "app.db")):
        pass
    checks = [
        SqlCheck("db", url=f"sqlite:///{tmp_path / 'app.db'}"),
        RedisCheck("redis", url="redis://127.0.0.1:6379/0"),
        HttpCheck("dep", http_dependency.url),
        DiskCheck("disk", [tmp_path], warn_used_ratio=0.999, fail_used_ratio=1.0),
    ]
    runner = HealthCheckRunner(checks, registry=registry, max_age=0)
    app = make_app(runner)
    for _ in range(2):
        with TestClient(app) as client:
            response = client.get("/health")
            assert response.status_code == 200, response.json()
            assert response.json()["status"] == "pass"
