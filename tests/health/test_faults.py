"""The endpoints over real dependencies with faults injected, and under a burst of probes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest

from _waiting import async_wait_until
from fanzwatch.core import FrozenClock
from fanzwatch.health import HealthCheckRunner, HttpCheck, RedisCheck, build_router, build_runner
from fanzwatch.health.testing import InMemoryCheck
from fanzwatch.settings.health import DiskCheckConfig, HealthSettings, demo_stack_checks

from ._servers import Blackhole, CountingHttpServer, RedisProcess, request_burst, serving

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def app_for(runner: HealthCheckRunner) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with runner:
            yield

    app = FastAPI(lifespan=lifespan)
    app.include_router(build_router(runner, service_id="fanzwatch"))
    return app


@pytest.fixture
def demo_settings(
    pg_url: str, redis_process: RedisProcess, http_dependency: CountingHttpServer, tmp_path: Path
) -> HealthSettings:
    media = tmp_path / "media"
    media.mkdir()
    checks = demo_stack_checks(
        database_url=pg_url,
        redis_url=redis_process.url,
        payment_processor_url=http_dependency.url,
        storage_dir=media,
        data_dir=tmp_path,
    )
    # The machine's disk is shared and may be over 85 % full: the disk check passes unless it is really full.
    any_disk = {"warn_used_ratio": 1.0, "fail_used_ratio": 1.0, "min_free_bytes": 1 << 20}
    checks = tuple(c.model_copy(update=any_disk) if isinstance(c, DiskCheckConfig) else c for c in checks)
    return HealthSettings(checks=checks, default_timeout_seconds=5.0)


@pytest.mark.postgres
async def test_demo_stack_dependencies_pass_and_show_in_metrics(demo_settings: HealthSettings) -> None:
    registry = CollectorRegistry()
    runner = build_runner(demo_settings, registry=registry)
    async with serving(app_for(runner)) as base, httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "pass", body
    assert list(body["checks"]) == [
        "platform_db:responseTime",
        "redis:responseTime",
        "payment_processor:responseTime",
        "media_storage:responseTime",
        "disk:utilization",
        "memory:utilization",
    ]
    assert {entry[0]["status"] for entry in body["checks"].values()} == {"pass"}
    exposition = generate_latest(registry).decode()
    for check in ("platform_db", "redis", "payment_processor", "media_storage", "disk", "memory"):
        assert f'fanz_health_check_status{{check="{check}",platform="other",status="pass"}} 1.0' in exposition
    assert 'fanz_health_check_critical{check="disk",platform="other"} 0.0' in exposition
    assert 'fanz_health_check_critical{check="platform_db",platform="other"} 1.0' in exposition


@pytest.mark.postgres
async def test_dependencies_going_away_fail_readiness_not_liveness(
    demo_settings: HealthSettings, redis_process: RedisProcess, pg_url: str
) -> None:
    runner = build_runner(demo_settings, registry=CollectorRegistry())
    async with serving(app_for(runner)) as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/health/ready")).status_code == 200

        redis_process.kill()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{pg_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        await runner.run_now()

        ready = await client.get("/health/ready")
        live = await client.get("/health/live")
        health = await client.get("/health")
        assert (ready.status_code, ready.json()["status"]) == (503, "fail")
        assert (live.status_code, live.json()) == (200, {"status": "pass", "serviceId": "fanzwatch"})
        assert health.status_code == 503
        checks = ready.json()["checks"]
        assert checks["redis:responseTime"][0]["status"] == "fail"
        assert "(Connection refused)" in checks["redis:responseTime"][0]["output"]
        assert checks["platform_db:responseTime"][0]["status"] == "fail"
        assert "does not exist" in checks["platform_db:responseTime"][0]["output"]
        assert checks["payment_processor:responseTime"][0]["status"] == "pass"
        one = await client.get("/health/checks/redis")
        assert one.status_code == 503


async def test_a_dependency_that_never_answers_cannot_hold_the_endpoints(
    blackhole: Blackhole, clock: FrozenClock
) -> None:
    hung = HttpCheck("payment_processor", f"http://127.0.0.1:{blackhole.port}/health", timeout=3.0)
    runner = HealthCheckRunner([hung, InMemoryCheck("db")], registry=CollectorRegistry(), clock=clock)
    app = FastAPI()  # no background runs: the probe itself triggers the run
    app.include_router(build_router(runner))
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        health_request = asyncio.create_task(client.get("/health"))
        # The run is under way once the check is connected to the dependency that never answers.
        await async_wait_until(lambda: blackhole.accepted == 1, timeout=30, message="the check never connected")
        live = await client.get("/health/live")
        health_pending_when_live_answered = not health_request.done()
        health = await asyncio.wait_for(health_request, timeout=30)
        health_after = loop.time() - started

        assert live.status_code == 200
        assert health_pending_when_live_answered  # liveness never waits for a check
        assert health.status_code == 503
        assert health_after >= 3.0  # the answer waited for the check's own timeout ...
        entry = health.json()["checks"]["payment_processor:responseTime"][0]
        assert (entry["status"], entry["output"]) == ("fail", "timed out after 3 s")  # ... and no longer

        assert (await client.get("/health")).status_code == 503  # from the cache, not another 3 s wait:
        assert blackhole.accepted == 1


@pytest.mark.redis
async def test_a_burst_of_probes_costs_each_dependency_one_query_per_max_age(
    http_dependency: CountingHttpServer, redis_process: RedisProcess, clock: FrozenClock
) -> None:
    checks = [HttpCheck("payment_processor", http_dependency.url), RedisCheck("redis", url=redis_process.url)]
    # One background run at start-up, then none during the test (period: an hour): every later
    # query of a dependency is a probe's, whatever the machine's speed.
    runner = HealthCheckRunner(checks, registry=CollectorRegistry(), clock=clock, max_age=10.0, period=3600.0)
    pings_before = redis_process.command_calls("ping")

    async with serving(app_for(runner)) as base:
        # 600 probes, 200 always in flight: the first 200 all arrive before any run ends.
        first = await request_burst(f"{base}/health")
        assert (first.requests, first.non_2xx, first.socket_errors) == (600, 0, "")
        assert http_dependency.hits == 1
        assert redis_process.command_calls("ping") - pings_before == 1

        clock.advance(timedelta(seconds=9))
        second = await request_burst(f"{base}/health/ready")
        assert (second.requests, second.non_2xx) == (600, 0)
        assert http_dependency.hits == 1

        clock.advance(timedelta(seconds=2))  # now older than max_age: one more run for everyone
        third = await request_burst(f"{base}/health")
        assert (third.requests, third.non_2xx) == (600, 0)
        assert http_dependency.hits == 2
        assert redis_process.command_calls("ping") - pings_before == 2
