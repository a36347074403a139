"""FanzDash Health shows each platform's own checks, read from a real Prometheus scraping a
real service that runs ``fanzwatch.health``: during a payment outage (the processor's
primary endpoint refuses connections) the platform's check fails on the page, while the
fanzwatch server's own checks still pass."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, generate_latest

from fanzwatch.health import DiskCheck, HealthCheckRunner, HttpCheck, TcpCheck
from fanzwatch.server.dash import DashSources, HttpPrometheus, build_dash_router
from fanzwatch.server.dash.features import RunnerHealthSource
from fanzwatch.server.dash.history import HealthHistory
from fanzwatch.settings.dash import DashSettings

from .._auth import authenticator, secure
from .stack import Child, binary, free_port, serving, wait_for

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

# The machine's disk is shared and may be over 95 % full as an unprivileged process sees it
# (CI failed so): these checks must pass unless the disk is really full.
ANY_DISK = {"warn_used_ratio": 1.0, "fail_used_ratio": 1.0, "min_free_bytes": 1 << 20}


def platform_service(dead_port: int) -> FastAPI:
    """A platform's process as far as health goes: its checks, exported on /metrics."""
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=2) as http:
            checks = [
                TcpCheck("database", "127.0.0.1", 5432),
                HttpCheck(
                    "payment_processor_primary", f"http://127.0.0.1:{dead_port}/health", client=http, critical=False
                ),
                DiskCheck("object_storage", [Path("/tmp")], **ANY_DISK),
            ]
            runner = HealthCheckRunner(
                checks, registry=registry, platform="fanz-2", period=1.0, default_timeout=0.5, max_age=0.5
            )
            async with runner:
                yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    return app


@dataclass
class HealthStack:
    dash: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HealthStack]:
    work = tmp_path_factory.mktemp("platform-health")
    dead = free_port()
    with serving(platform_service(dead)) as platform_url:
        port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": "fanz-platform", "static_configs": [{"targets": [platform_url.removeprefix("http://")]}]},
                {"job_name": "payment-processor", "static_configs": [{"targets": [f"127.0.0.1:{dead}"]}]},
            ],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        prom = Child(
            [
                binary("prometheus"),
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            f"http://127.0.0.1:{port}",
            work / "prometheus.log",
        )
        prom.start()
        try:

            def scraped() -> bool:
                answer = httpx.get(
                    f"{prom.url}/api/v1/query",
                    params={"query": 'fanz_health_check_status{check="payment_processor_primary",status="fail"} == 1'},
                ).json()
                down = httpx.get(f"{prom.url}/api/v1/query", params={"query": "up == 0"}).json()
                return bool(answer["data"]["result"]) and bool(down["data"]["result"])

            wait_for("Prometheus to scrape the failing check", scraped, 30, interval=0.3)
            with serving(_dash_app(prom.url, work)) as dash:
                yield HealthStack(dash)
        finally:
            prom.stop()


def _dash_app(prom_url: str, work: Path) -> FastAPI:
    sources = DashSources()
    registry = CollectorRegistry()
    own = HealthCheckRunner(
        [DiskCheck("data_disk", [work], **ANY_DISK)], registry=registry, period=2, default_timeout=1, max_age=1
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=5) as http, own:
            sources.prometheus = HttpPrometheus(http, prom_url)
            sources.health = RunnerHealthSource(own, HealthHistory(own, points=10, interval=1))
            yield

    app = FastAPI(lifespan=lifespan)
    auth = authenticator(open_loopback=True)
    app.include_router(
        build_dash_router(
            lambda: sources, DashSettings(prometheus_url=prom_url), platforms=("fanz-1", "fanz-2"), auth=auth
        )
    )
    return secure(app, auth)


def _card(html: str, title: str) -> str:
    match = re.search(rf'<article class="panel"[^>]*data-service="{re.escape(title)}"[^>]*>(.*?)</article>', html, re.S)
    assert match, html
    return match.group(0)


def test_the_platforms_failing_check_is_shown_while_the_servers_pass(stack: HealthStack) -> None:
    html = httpx.get(f"{stack.dash}/dash/health").text
    card = _card(html, "fanz-2")
    assert 'data-status="warn"' in card  # non-critical: the platform still serves everything but payments
    row = re.search(r'<tr data-check="payment_processor_primary">.*?</tr>', card, re.S)
    assert row and "badge-fail" in row.group(0) and "non-critical" in row.group(0) and "never" in row.group(0)
    assert re.search(r'<tr data-check="database">.*?badge-pass', card, re.S)
    # The processor itself cannot be scraped: listed as unknown, not as passing.
    processor = _card(html, "payment-processor (shared by its platforms)")
    assert 'data-status="unknown"' in processor and "cannot scrape" in processor
    assert "2 of 2</strong> not healthy" in html
    # The server's own checks are still there, passing, in their own section.
    server = html[html.index('id="server-h"') :]
    assert "data_disk" in server and "badge-pass" in server


def test_the_overview_says_which_platform_check_fails(stack: HealthStack) -> None:
    html = httpx.get(f"{stack.dash}/dash/").text
    card = html[html.index('id="card-health"') : html.index('id="card-alerts"')]
    text = " ".join(re.sub(r"<[^>]+>", " ", card).split())
    assert (
        "Platforms: fanz-2 failing payment_processor_primary; "
        "payment-processor (shared by its platforms) failing to answer scrapes." in text
    ), text
    assert "This server: 1 checks, all passing." in text
    assert 'data-testid="platform-health"><span class="badge badge-warn">' in card  # not "all passing"


def test_the_platform_picker_keeps_that_platforms_and_shared_services(stack: HealthStack) -> None:
    html = httpx.get(f"{stack.dash}/dash/health", params={"platform": "fanz-1"}).text
    assert 'data-service="fanz-2"' not in html
    assert 'data-service="payment-processor (shared by its platforms)"' in html
