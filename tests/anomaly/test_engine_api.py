"""The anomaly API router and the insights/forecast CLI, against the real Prometheus.

Prometheus holds three days of minute data written with promtool: fanz-1's active users
grow 5 % a day with a daily cycle, fanz-2's are flat with a ten-minute outage a day ago,
and a disk loses 1 GB an hour.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import pytest_asyncio
import typer
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from fanzwatch.anomaly.engine import AnomalyEngine, EngineState
from fanzwatch.anomaly.router import build_router
from fanzwatch.cli.anomaly_insights import forecast, insights
from fanzwatch.core import SystemClock
from fanzwatch.settings.anomaly import AnomalySettings

from .test_engine_stack import DAY, Process, create_blocks, free_port, noise, prometheus_process

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]
module_loop = pytest.mark.asyncio(loop_scope="module")  # the API client fixture lives on the module's loop

STEP = 60.0
DAYS = 3
GROWTH = 0.05  # fanz-1 active users: +5 % of the starting level per day


def _history(path: Path, end: float) -> dict[str, float]:
    t = np.arange(end - DAYS * DAY, end, STEP)
    elapsed = (t - t[0]) / DAY
    lines = []
    users1 = 1000 * (1 + GROWTH * elapsed) * (1 + 0.3 * np.sin(2 * np.pi * t / DAY)) + 10 * noise(t, 1)
    users2 = 400 + 8 * noise(t, 2)
    outage = (t >= end - DAY) & (t < end - DAY + 600)
    users2 = np.where(outage, 40.0, users2)
    disk = 100e9 - 1e9 * (t - t[0]) / 3600 + 2e7 * noise(t, 3)
    base = 'job="fanz",instance="127.0.0.1:1"'
    for platform, users in (("fanz-1", users1), ("fanz-2", users2)):
        lines += [
            f'fanz_active_users{{{base},platform="{platform}"}} {v:.3f} {ts:.0f}'
            for ts, v in zip(t.tolist(), users.tolist(), strict=True)
        ]
    lines += [
        f'node_filesystem_avail_bytes{{job="node",instance="127.0.0.1:2",mountpoint="/",fstype="ext4",device="sda1"}} '
        f"{v:.0f} {ts:.0f}"
        for ts, v in zip(t.tolist(), disk.tolist(), strict=True)
    ]
    path.write_text("\n".join(lines) + "\n# EOF\n")
    return {"disk_end_time": float(t[-1]), "disk_slope": -1e9 / 3600, "outage_start": float(end - DAY)}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, dict[str, float]]]:
    work = tmp_path_factory.mktemp("api")
    facts = _history(work / "history.om", time.time())
    create_blocks(work / "history.om", work / "tsdb")
    proc = prometheus_process(work, work / "tsdb", port=free_port(), scrape_target=None)
    try:
        proc.start()
        yield proc, facts
    finally:
        proc.stop()


def _settings(url: str) -> AnomalySettings:
    return AnomalySettings(
        prometheus_url=url,
        alertmanager_url=None,
        step_seconds=STEP,
        query_delay_seconds=0,
        history_seconds=DAYS * DAY,
        rate_window_seconds=300,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(prometheus: tuple[Process, dict[str, float]]) -> AsyncIterator[httpx.AsyncClient]:
    proc, _ = prometheus
    async with httpx.AsyncClient(timeout=10) as http:
        engine = AnomalyEngine(_settings(proc.url), http, CollectorRegistry(), SystemClock())
        await engine.tick()
        dead = AnomalyEngine(_settings(f"http://127.0.0.1:{free_port()}"), http, CollectorRegistry(), SystemClock())
        app = FastAPI()
        app.include_router(build_router(lambda: engine))
        down = FastAPI()
        down.include_router(build_router(lambda: dead), prefix="/down")
        off = FastAPI()
        off.include_router(build_router(lambda: None), prefix="/off")
        app.mount("/x", down)
        app.mount("/y", off)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fanzwatch") as client:
            yield client


@module_loop
async def test_series_lists_the_watch_list_with_bands(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/anomalies/series", params={"metric": "active_users", "points": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    assert [(s["metric"], s["platform"]) for s in body["series"]] == [
        ("active_users", "fanz-1"),
        ("active_users", "fanz-2"),
    ]
    for s in body["series"]:
        assert s["title"] == "Active users" and s["unit"] == "users" and s["alert_on"] == "both"
        assert s["lower"] < s["upper"] and 0.0 <= s["score"] <= 1.0
        assert len(s["points"]) == 5 and s["points"][-1][0] == s["timestamp"]
        assert s["points"][-1][1] == s["value"]


@module_loop
async def test_anomalies_include_the_outage_from_history(
    api: httpx.AsyncClient, prometheus: tuple[Process, dict[str, float]]
) -> None:
    _, facts = prometheus
    response = await api.get("/api/v1/anomalies", params={"metric": "active_users", "platform": "fanz-2"})
    assert response.status_code == 200
    body = response.json()
    assert body["active"] == []
    outage = [e for e in body["recent"] if facts["outage_start"] <= e["started_at"] < facts["outage_start"] + 600]
    assert len(outage) == 1
    (episode,) = outage
    assert (episode["metric"], episode["platform"], episode["active"]) == ("active_users", "fanz-2", False)
    assert episode["value"] is not None and episode["ended_at"] > episode["started_at"]
    assert all(e["platform"] == "fanz-2" and e["metric"] == "active_users" for e in body["recent"])


@module_loop
async def test_insights_say_the_guides_sentences(api: httpx.AsyncClient) -> None:
    response = await api.get(
        "/api/v1/anomalies/insights", params={"metric": "active_users", "platform": "fanz-1", "days": DAYS}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    (report,) = body["series"]
    trend = report["trend"]
    assert trend["significant"] and trend["direction"] == "increasing"
    # +5 % of the starting level per day is ~4.3 % of the median level (1075)
    assert trend["slope_per_day"] == pytest.approx(50.0, rel=0.1)
    daily = report["seasonality"]["lags"][0]
    assert (daily["name"], daily["lag_points"], daily["detected"]) == ("daily", 1440, True)
    assert report["seasonality"]["lags"][1]["reason"] == "needs at least 14 days of data, have 3.0"
    assert body["insights"] == [
        f"active_users on fanz-1 shows an increasing trend over the last 3 days "
        f"({trend['pct_per_day']:+.1f}% per day, 95% CI {trend['pct_ci_per_day'][0]:+.1f}% to "
        f"{trend['pct_ci_per_day'][1]:+.1f}%, p < 0.001)",
        f"active_users on fanz-1 exhibits a daily seasonal pattern "
        f"(autocorrelation {daily['autocorrelation']:.2f} at the 1-day lag)",
    ]


@module_loop
async def test_forecast_says_when_the_disk_is_full(
    api: httpx.AsyncClient, prometheus: tuple[Process, dict[str, float]]
) -> None:
    _, facts = prometheus
    params: dict[str, str | int] = {
        "metric": "node_filesystem_avail_bytes",
        "match": "mountpoint=/",
        "threshold": 0,
        "hours": 32,  # at most half of the (almost) 3 days of history
        "days": DAYS,
    }
    response = await api.get("/api/v1/anomalies/forecast", params=params)
    assert response.status_code == 200, response.text
    (report,) = response.json()["series"]
    assert report["name"] == 'node_filesystem_avail_bytes{device="sda1",fstype="ext4",mountpoint="/"}'
    crossing = report["threshold"]
    left = 100e9 + facts["disk_slope"] * (DAYS * DAY - STEP)  # bytes free at the last point
    truth = left / -facts["disk_slope"]  # about 28 hours
    assert crossing["direction"] == "falling" and crossing["within_horizon"]
    assert crossing["eta_seconds"] == pytest.approx(truth, rel=0.02)
    assert crossing["earliest_seconds"] <= truth <= crossing["latest_seconds"]
    assert len(report["points"]) == 200 and report["points"][0]["lower"] <= report["points"][0]["mean"]


@module_loop
@pytest.mark.parametrize(
    ("path", "params", "status", "detail"),
    [
        ("/api/v1/anomalies/insights", {"metric": "http_requests_total"}, 400, "unknown metric 'http_requests_total'"),
        ("/api/v1/anomalies/insights", {"metric": "active_users", "platform": "Bad Slug"}, 400, "not a platform slug"),
        (
            "/api/v1/anomalies/insights",
            {"metric": "active_users", "platform": "fanz-9"},
            404,
            "no data for active_users",
        ),
        ("/api/v1/anomalies/insights", {"metric": "active_users", "match": "nolabel"}, 400, "must be label=value"),
        ("/api/v1/anomalies/insights", {"metric": "active_users", "days": 0}, 422, None),
        ("/api/v1/anomalies/forecast", {"metric": "active_users", "level": 1.5}, 422, None),
        ("/api/v1/anomalies/forecast", {"metric": "active_users", "direction": "up"}, 422, None),
        ("/api/v1/anomalies/series", {"metric": "cpu"}, 400, "metric 'cpu' is not watched"),
        ("/api/v1/anomalies", {"limit": 0}, 422, None),
        ("/x/down/api/v1/anomalies/insights", {"metric": "active_users"}, 503, "is unavailable"),
        ("/y/off/api/v1/anomalies", {}, 503, "the anomaly engine is not running"),
    ],
)
async def test_bad_requests_get_a_clear_4xx_or_503(
    api: httpx.AsyncClient, path: str, params: dict[str, str | int | float], status: int, detail: str | None
) -> None:
    response = await api.get(path, params=params)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command()(insights)
    app.command()(forecast)
    return app


def test_cli_insights_and_forecast(prometheus: tuple[Process, dict[str, float]]) -> None:
    proc, _ = prometheus
    runner = CliRunner()
    result = runner.invoke(
        _cli(),
        ["insights", "--prometheus", proc.url, "--metric", "active_users", "--platform", "fanz-1", "--days", "3"],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("active_users on fanz-1 shows an increasing trend over the last 3 days (+")
    daily = re.fullmatch(
        r"active_users on fanz-1 exhibits a daily seasonal pattern \(autocorrelation (\d\.\d\d) at the 1-day lag\)",
        lines[1],
    )
    assert daily and 0.5 < float(daily.group(1)) <= 1.0, lines[1]  # a strong daily cycle (the data is a clean one)
    assert lines[2] == "  note: weekly: needs at least 14 days of data, have 3.0"
    result = runner.invoke(
        _cli(),
        [
            "forecast",
            "--prometheus",
            proc.url,
            "--metric",
            "node_filesystem_avail_bytes",
            "--threshold",
            "0",
            "--hours",
            "32",
            "--days",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        lines[0] == 'node_filesystem_avail_bytes{device="sda1",fstype="ext4",mountpoint="/"}: next 32 h, 90% interval'
    )
    assert len(lines) == 1 + 24 + 1
    disk = 'node_filesystem_avail_bytes{device="sda1",fstype="ext4",mountpoint="/"}'
    assert lines[-1].startswith(f"  {disk} is forecast to fall below 0 in about ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insights", "--metric", "active_users"], "is unavailable: ConnectError"),
        (["insights", "--metric", "nope"], "unknown metric 'nope'"),
        (["forecast", "--metric", "active_users", "--direction", "up"], "--direction must be rising or falling"),
        (["insights", "--metric", "active_users", "--prometheus", "localhost:9090"], "is not an http(s) URL"),
    ],
)
def test_cli_errors_are_one_clear_line(args: list[str], message: str) -> None:
    if "--prometheus" not in args:
        args = [*args, "--prometheus", f"http://127.0.0.1:{free_port()}"]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@module_loop
async def test_start_evaluates_in_the_background_until_stop(prometheus: tuple[Process, dict[str, float]]) -> None:
    proc, _ = prometheus
    async with httpx.AsyncClient(timeout=10) as http:
        settings = _settings(proc.url).model_copy(update={"interval_seconds": 0.2})
        engine = AnomalyEngine(settings, http, CollectorRegistry(), SystemClock())
        status = engine.status()
        assert (status.status, status.output) == (
            EngineState.UNKNOWN,
            "blind: anomaly state unknown: no evaluation yet",
        )
        await engine.start()
        assert engine.running
        deadline = time.monotonic() + 30
        while engine.status().details["evaluations"] < 3:  # the replay, then cheap incremental ones
            assert time.monotonic() < deadline, "the background task did not evaluate"
            await asyncio.sleep(0.05)
        assert engine.status().status is EngineState.PASS
        await engine.stop()
        assert not engine.running
        done = engine.status().details["evaluations"]
        await asyncio.sleep(0.5)
        assert engine.status().details["evaluations"] == done
