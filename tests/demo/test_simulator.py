"""The traffic simulator: seasonality, budgets, loopback only, and a real run against the platform."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from pydantic import ValidationError

from fanzwatch import schema
from fanzwatch.demo.simulator import (
    SimulatedClock,
    Simulator,
    SimulatorConfig,
    create_simulator_admin_app,
    daily_factor,
    seasonal_factor,
    weekly_factor,
)
from fanzwatch.sdk.testing import TelemetryCapture

MONDAY = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("hour", "minute", "factor"),
    [(21, 0, 1.0), (4, 0, 0.16), (4, 30, 0.165), (12, 0, 0.66), (23, 30, 0.645)],
)
def test_daily_profile(hour: int, minute: int, factor: float) -> None:
    assert daily_factor(MONDAY.replace(hour=hour, minute=minute)) == pytest.approx(factor)


def test_weekly_profile_and_product() -> None:
    saturday_peak = (MONDAY + timedelta(days=5)).replace(hour=21)
    assert weekly_factor(saturday_peak) == 1.0
    assert seasonal_factor(saturday_peak) == 1.0
    assert seasonal_factor((MONDAY + timedelta(days=1)).replace(hour=4)) == pytest.approx(0.16 * 0.86)


def test_simulated_clock_compresses_time() -> None:
    clock = SimulatedClock(start=MONDAY, day_seconds=600)
    assert clock.compression == 144.0
    assert clock.at(300) == MONDAY + timedelta(hours=12)
    assert clock.at(600 * 7) == MONDAY + timedelta(days=7)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(start=datetime(2025, 1, 6), day_seconds=600)
    with pytest.raises(ValueError, match="day_seconds"):
        SimulatedClock(start=MONDAY, day_seconds=0.5)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8300", "https://fanz.example", "http://0.0.0.0:8300"])
def test_only_loopback_targets(url: str) -> None:
    with pytest.raises(ValidationError, match="loopback"):
        SimulatorConfig(platform_url=url, platforms=("fanz-1",))


def test_rate_follows_the_season_and_the_multiplier() -> None:
    config = SimulatorConfig(
        platform_url="http://127.0.0.1:1", platforms=("fanz-1",), peak_rps=10, start=MONDAY.replace(hour=4)
    )
    sim = Simulator(config, httpx.AsyncClient())
    assert sim.current_rate() == pytest.approx(10 * 0.16 * 0.88)
    sim.set_multiplier(5)
    assert sim.current_rate() == pytest.approx(50 * 0.16 * 0.88)
    with pytest.raises(ValueError, match="multiplier"):
        sim.set_multiplier(0)
    with pytest.raises(ValueError, match="multiplier"):
        sim.set_multiplier(51)


async def test_a_bounded_run_against_the_platform(platform_app: FastAPI, telemetry: TelemetryCapture) -> None:
    config = SimulatorConfig(
        platform_url="http://127.0.0.1:8300",
        platforms=("fanz-1", "fanz-2"),
        peak_rps=200,
        start=MONDAY.replace(hour=21),
        max_requests=120,
        max_duration_seconds=60,
        seed=7,
    )
    async with platform_app.router.lifespan_context(platform_app):
        # a server error is a 5xx answer the simulator counts (as over a socket), not a crash of the run
        transport = httpx.ASGITransport(app=platform_app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=config.platform_url) as http:
            sim = Simulator(config, http)
            await sim.run()
        engine = platform_app.state.runtime.engine
        async with engine.connect() as conn:
            users = (await conn.execute(sa.select(sa.func.count()).select_from(schema.users))).scalar_one()
            payments = (await conn.execute(sa.select(sa.func.count()).select_from(schema.transactions))).scalar_one()
    status = sim.status()
    # stopped by its request budget, not by its 60 s duration budget
    assert (status["state"], status["stop_reason"], status["sent"]) == ("finished", "max_requests reached", 120)
    outcomes = status["outcomes"]
    # Bootstrap: 3 creators and 8 fans per platform registered.
    assert outcomes["register_creator.201"] >= 6
    assert outcomes["register_fan.201"] >= 16
    assert not [k for k in outcomes if k.split(".")[1][0] == "5" or k.endswith("transport_error")], outcomes
    assert users == outcomes.get("register_fan.201", 0) + outcomes.get("register_creator.201", 0)
    # Every payment attempt is a transaction row, whatever its outcome (201, 402, 502).
    paid = sum(
        v
        for k, v in outcomes.items()
        if k.split(".")[0] in ("tip", "subscribe", "ppv") and k[-3:] in ("201", "402", "502")
    )
    assert payments == paid
    registered = sum(
        telemetry.get_sample_value("fanz_user_registrations_total", {"platform": p, "role": r, "source": s}) or 0
        for p in ("fanz-1", "fanz-2")
        for r in ("fan", "creator")
        for s in ("web", "ios", "android", "referral")
    )
    assert registered == users


async def test_the_duration_budget_stops_the_run() -> None:
    config = SimulatorConfig(
        platform_url="http://127.0.0.1:1", platforms=("fanz-1",), peak_rps=0.01, max_duration_seconds=0.3
    )
    async with httpx.AsyncClient(base_url=config.platform_url) as http:
        sim = Simulator(config, http)
        started = time.monotonic()
        await sim.run()
    assert sim.stop_reason == "max_duration reached"
    assert time.monotonic() - started >= 0.3
    # Nothing listens on port 1: the bootstrap's requests failed cleanly, counted, not raised.
    assert sim.status()["outcomes"]["register_creator.transport_error"] >= 1


async def test_admin_api_changes_traffic() -> None:
    config = SimulatorConfig(platform_url="http://127.0.0.1:1", platforms=("fanz-1",))
    sim = Simulator(config, httpx.AsyncClient())
    app = create_simulator_admin_app(sim)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim") as admin:
        assert (await admin.put("/admin/traffic", json={"multiplier": 5})).json() == {"multiplier": 5.0}
        assert sim.multiplier == 5.0
        assert (await admin.put("/admin/traffic", json={"multiplier": 0})).status_code == 422
        assert (await admin.put("/admin/traffic", json={"multiplier": 500})).status_code == 422
        status = (await admin.get("/status")).json()
        assert (status["state"], status["multiplier"], status["sent"]) == ("idle", 5.0, 0)
        sim.state = "finished"
        assert (await admin.put("/admin/traffic", json={"multiplier": 2})).status_code == 409
