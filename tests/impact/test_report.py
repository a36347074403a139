"""The post-incident report: rendered from the record, served by the API, printed by the CLI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from alerting._helpers import (
    API_TOKEN,
    Harness,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    post_alerts,
    serving_with_auth,
)
from fanzwatch.alerting import AlertingService
from fanzwatch.alerting import build_router as build_alerting_router
from fanzwatch.anomaly.forecast import forecast
from fanzwatch.cli import app
from fanzwatch.impact import ImpactTracker, IncidentPricer, RevenueEstimator, build_router, render_report
from fanzwatch.impact.report import duration
from fanzwatch.settings.impact import ImpactSettings

from .test_tracker import prometheus

SECTIONS = [
    "## Summary",
    "## Impact",
    "## Detection",
    "## Timeline",
    "## Alerts",
    "## Remediation",
    "## Causes",
    "## Actions",
]


def _web(svc: AlertingService) -> FastAPI:
    web = FastAPI()
    web.include_router(build_alerting_router(lambda: svc))
    web.include_router(build_router(lambda: svc.queries.get))
    return web


async def priced_incident(h: Harness) -> AlertingService:
    """A warning alert at T0, tips down 90 % since, acknowledged after 4 min, priced at 10 min, resolved at 20."""
    svc = h.service(base_settings(api_token=API_TOKEN))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("HighErrorRate", severity="warning", service="payments-api")))
        await svc.tick()
        h.clock.advance(timedelta(minutes=4))
        await svc.operations.acknowledge(1, by="ana", now=h.clock.now())
    settings = ImpactSettings(history_days=14, settle_seconds=0, exchange_rates={"EUR": Decimal("1.10")})
    prom = prometheus(revenue_drop=0.9)
    pricer = IncidentPricer(settings, prom, RevenueEstimator(prom, forecast, settings))
    tracker = ImpactTracker(
        settings, pricer, svc.impact_ledger, CollectorRegistry(), h.clock, payment_success_objective=0.995
    )
    h.clock.advance(timedelta(minutes=6))
    await tracker.tick()  # raises it to P0
    h.clock.advance(timedelta(minutes=10))
    await svc.operations.resolve(1, by="ana", now=h.clock.now(), note="rolled back")
    await tracker.tick()  # final (no settling time)
    return svc


async def test_the_report_is_written_from_the_record(harness: Harness) -> None:
    svc = await priced_incident(harness)
    record = await svc.queries.get(1)
    assert record is not None
    text = render_report(record)
    assert text.startswith("# Post-incident report: #1 HighErrorRate on fanz-1\n")
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    lost = record["impact"]["lost"]
    assert f"- **Revenue lost: {lost['lost']:,.2f} USD** (90% interval {lost['lost_lower']:,.2f} USD to " in text
    assert "- Priority: P0; status: resolved" in text
    assert "- Detected by HighErrorRate (fired 2026-03-02 10:00:00 UTC)" in text
    assert (
        "- Time to detect: 0 s\n- Time to acknowledge: 4 min\n- Time to mitigate: 20 min\n- Time to resolve: 20 min"
        in (text)
    )
    assert "| fanzwatch-impact | Priority raised P1 → P0 by money: revenue on fanz-1 (tip, USD)" in text
    assert "- Affected creators and fans: not counted (no platform database)" in text
    assert "| fanz-1 | tip | USD |" in text
    assert "No automatic remediation was attempted." in text
    assert text.endswith("| action | owner | due |\n|---|---|---|\n|  |  |  |\n")


def test_an_unpriced_incident_says_so() -> None:
    record: dict[str, Any] = {
        "id": 3,
        "title": "T",
        "summary": "s",
        "priority": "P2",
        "status": "triggered",
        "platform": "fanz-2",
        "opened_at": "2026-03-02T10:00:00+00:00",
        "impact": None,
        "alerts": [],
        "timeline": [],
        "remediation": [],
    }
    text = render_report(record)
    assert "Not priced yet" in text
    assert "- (timings come with the impact figures)" in text
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0 s"), (45, "45 s"), (250, "4 min 10 s"), (3900, "1 h 5 min"), (7200, "2 h")],
)
def test_durations_read_as_people_write_them(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


async def test_the_api_serves_markdown_and_404s_an_unknown_incident(harness: Harness) -> None:
    svc = await priced_incident(harness)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_web(svc)), base_url="http://t") as c:
        ok = await c.get("/api/v1/incidents/1/report")
        missing = await c.get("/api/v1/incidents/99/report")
        bad = await c.get("/api/v1/incidents/0/report")
    assert ok.status_code == 200
    assert ok.headers["content-type"] == "text/markdown; charset=utf-8"
    assert ok.text == render_report(await svc.queries.get(1) or {})
    assert (missing.status_code, missing.json()) == (404, {"detail": "incident 99 does not exist"})
    assert bad.status_code == 422


@contextlib.asynccontextmanager
async def serving(svc: AlertingService, secrets_dir: Path) -> AsyncIterator[str]:
    async with serving_with_auth(_web(svc), secrets_dir) as url:
        yield url


async def cli(*args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN})


async def test_the_cli_prints_the_report_and_exits_2_on_errors(harness: Harness, tmp_path: Path) -> None:
    svc = await priced_incident(harness)
    async with serving(svc, tmp_path / "secrets") as url:
        ok = await cli("incidents", "report", "1", "--server", url)
        written = await cli("incidents", "report", "1", "--server", url, "-o", str(tmp_path / "pm.md"))
        missing = await cli("incidents", "report", "99", "--server", url)
        unwritable = await cli("incidents", "report", "1", "--server", url, "-o", str(tmp_path / "no" / "pm.md"))
    assert ok.exit_code == 0, ok.output
    assert ok.stdout == render_report(await svc.queries.get(1) or {})
    assert written.exit_code == 0
    assert (tmp_path / "pm.md").read_text() == ok.stdout
    assert (missing.exit_code, missing.stderr) == (2, "error: incident 99 does not exist (HTTP 404)\n")
    assert unwritable.exit_code == 2
    assert unwritable.stderr.startswith(f"error: cannot write {tmp_path / 'no' / 'pm.md'}: ")
    gone = await cli("incidents", "report", "1", "--server", url)  # the server has stopped
    assert gone.exit_code == 2
    assert gone.stderr.startswith(f"error: cannot reach the fanzwatch server at {url}")


async def test_the_list_shows_the_money_open_incidents_first(harness: Harness, tmp_path: Path) -> None:
    svc = await priced_incident(harness)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("DiskFilling", severity="warning", platform="fanz-2")))
        await svc.tick()
    async with serving(svc, tmp_path / "secrets") as url:
        listed = await cli("incidents", "list", "--server", url, "--status", "all")
        newest = await cli("incidents", "list", "--server", url, "--status", "all", "--order", "newest")
    lost = (await svc.queries.get(1) or {})["revenue_at_risk"]
    assert lost > 500  # 20 min of tips 90 % gone
    rows = listed.stdout.splitlines()
    assert rows[0] == "   ID  PRIO  STATUS        PLATFORM    OPENED                 AT RISK / LOST  TITLE"
    assert rows[1].startswith("    2  P1    triggered     fanz-2")  # open (and not priced yet) first
    assert rows[2].startswith("    1  P0    resolved      fanz-1      2026-03-02 10:00:00  ")
    assert rows[2].endswith(f"{lost:,.2f} USD  HighErrorRate on fanz-1")
    assert [r.split()[0] for r in newest.stdout.splitlines()[1:]] == ["2", "1"]


def test_text_from_alerts_cannot_format_the_report() -> None:
    record: dict[str, Any] = {
        "id": 4,
        "title": "# Payments <b>down</b> | [click](http://x)",
        "summary": "line one\nline *two*",
        "priority": "P1",
        "status": "triggered",
        "platform": "fanz-1",
        "opened_at": "2026-03-02T10:00:00+00:00",
        "impact": None,
        "alerts": [],
        "timeline": [{"at": "2026-03-02T10:00:00+00:00", "kind": "note", "actor": "ana", "message": "a | b\nc"}],
        "remediation": [],
    }
    text = render_report(record)
    assert (
        text.splitlines()[0] == "# Post-incident report: #4 \\# Payments \\<b\\>down\\</b\\> \\| \\[click\\](http://x)"
    )
    assert "- line one line \\*two\\*" in text
    assert "| ana | a \\| b c |" in text
