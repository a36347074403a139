"""The one seasonal model: 13 platforms of different sizes and peak hours."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.demo.simulator import PlatformProfile, Simulator, SimulatorConfig, platform_profile, platform_rates
from fanzwatch.demo.simulator.seasonality import PLATFORM_PROFILES, platform_shares, seasonal_factor
from fanzwatch.settings.demo import DemoSettings

SATURDAY = datetime(2025, 1, 11, tzinfo=UTC)


def _peak_hour(profile: PlatformProfile) -> int:
    return max(range(24), key=lambda h: profile.factor(SATURDAY.replace(hour=h)))


def test_every_default_platform_has_its_own_profile() -> None:
    assert tuple(PLATFORM_PROFILES) == DEFAULT_PLATFORMS
    profiles = [platform_profile(p) for p in DEFAULT_PLATFORMS]
    sizes = [p.size for p in profiles]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 13
    assert sizes[0] == 1.0 and sizes[-1] < 0.1
    # Audiences in different time zones: at least 10 distinct peak hours.
    assert len({_peak_hour(p) for p in profiles}) >= 10


@pytest.mark.parametrize(("platform", "peak_utc"), [("fanz-1", 21), ("fanz-2", 2), ("fanz-5", 13), ("fanz-11", 12)])
def test_peak_hour_follows_the_audience(platform: str, peak_utc: int) -> None:
    assert _peak_hour(platform_profile(platform)) == peak_utc


def test_local_weekday_and_hour() -> None:
    fanz2 = platform_profile("fanz-2")  # peaks 5 h after 21:00 UTC: Saturday 21:00 local is Sunday 02:00 UTC
    assert fanz2.factor(SATURDAY + timedelta(days=1, hours=2)) == pytest.approx(1.0)
    assert fanz2.factor(SATURDAY + timedelta(hours=21)) == pytest.approx(seasonal_factor(SATURDAY.replace(hour=16)))


def test_unknown_slugs_get_a_stable_bounded_profile() -> None:
    a, b = platform_profile("acme-fans"), platform_profile("acme-fans")
    assert a == b
    assert 0.1 <= a.size < 0.6 and -12 <= a.peak_hour_shift <= 11
    assert platform_profile("other-fans") != a


def test_rates_split_the_peak_by_size() -> None:
    shares = platform_shares(DEFAULT_PLATFORMS)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["fanz-1"] / shares["fanz-13"] == pytest.approx(1.0 / 0.08)
    moment = SATURDAY.replace(hour=21)
    rates = platform_rates(DEFAULT_PLATFORMS, 20.0, moment)
    assert rates["fanz-1"] == pytest.approx(20.0 * shares["fanz-1"])  # fanz-1 is at its peak
    assert rates["fanz-2"] < 20.0 * shares["fanz-2"]  # fanz-2's audience is 5 h behind
    assert sum(rates.values()) < 20.0


def test_the_demo_runs_all_13_platforms() -> None:
    assert DemoSettings().platforms == DEFAULT_PLATFORMS


def test_the_simulator_sends_each_platform_its_share() -> None:
    config = SimulatorConfig(
        platform_url="http://127.0.0.1:1",
        platforms=DEFAULT_PLATFORMS,
        peak_rps=13,
        start=SATURDAY.replace(hour=21),
        day_seconds=86_400,
        seed=3,
    )
    sim = Simulator(config, httpx.AsyncClient())
    rates = sim.platform_rates()
    assert sim.current_rate() == pytest.approx(sum(rates.values()))
    assert rates == pytest.approx(platform_rates(DEFAULT_PLATFORMS, 13, SATURDAY.replace(hour=21)))
    sim.set_multiplier(5)
    assert sim.current_rate() == pytest.approx(5 * sum(rates.values()))
    # Each arrival goes to a platform in proportion to the current rates.
    picks = Counter(sim.pick_platform() for _ in range(20_000))
    assert picks["fanz-1"] / 20_000 == pytest.approx(rates["fanz-1"] / sum(rates.values()), abs=0.015)
    assert picks["fanz-1"] > 5 * picks["fanz-13"]
