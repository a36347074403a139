"""Revenue at risk and lost against the anomaly engine's forecast, on generated history."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from fanzwatch.anomaly.forecast import forecast
from fanzwatch.impact import IncidentImpact, RateFactors, RevenueEstimator
from fanzwatch.settings.impact import ImpactSettings

from ._history import DAY, STEP, FakeRevenuePrometheus, revenue_curve

T_END = 1_780_000_020.0 // STEP * STEP  # a Thursday afternoon
T = np.arange(T_END - 15 * DAY, T_END + STEP / 2, STEP)
SETTINGS = ImpactSettings(history_days=14, settle_seconds=900)


def _prometheus(outage: tuple[float, float] | None, share: float = 1.0) -> tuple[FakeRevenuePrometheus, float]:
    """fanz-1 tips in EUR with ``share`` of the revenue removed in ``outage``; (fake, removed)."""
    values = revenue_curve(T, base=40.0, seed=7)
    removed = 0.0
    if outage is not None:
        hit = (outage[0] < T) & (outage[1] >= T)
        removed = float(values[hit].sum() * share)
        values = values.copy()
        values[hit] *= 1 - share
    other = revenue_curve(T, base=10.0, seed=8)
    fake = FakeRevenuePrometheus(
        T, revenue={("fanz-1", "tip", "EUR"): values, ("fanz-1", "subscription", "EUR"): other}
    )
    return fake, removed


@pytest.mark.parametrize(("minutes", "share"), [(60, 1.0), (45, 0.5), (180, 0.8)])
async def test_at_risk_equals_the_removed_revenue_within_the_interval(minutes: int, share: float) -> None:
    start, end = T_END - minutes * 60, T_END
    fake, removed = _prometheus((start, end), share)
    estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(("fanz-1",), start, end)
    tip = next(s for s in estimate.streams if s.stream == "tip")
    w = tip.window
    assert tip.baseline is None
    assert tip.minutes == minutes
    assert w.at_risk_lower <= removed <= w.at_risk_upper
    assert abs(w.at_risk - removed) < 0.1 * removed  # the central estimate is close, not just inside
    assert tip.below_band
    untouched = next(s for s in estimate.streams if s.stream == "subscription")
    assert untouched.window.at_risk_lower <= 0 <= untouched.window.at_risk_upper
    assert not untouched.below_band


async def test_without_an_outage_at_risk_stays_within_the_interval() -> None:
    for hours in (1, 6):
        start, end = T_END - hours * 3600, T_END
        fake, _ = _prometheus(None)
        estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(("fanz-1",), start, end)
        for s in estimate.streams:
            assert s.window.at_risk_lower <= 0 <= s.window.at_risk_upper, (hours, s)
            assert not s.below_band


async def test_lost_subtracts_late_payments_recovered_after_resolution() -> None:
    """An hour without revenue, then the retried payments arrive in the settling span."""
    start, resolved = T_END - 100 * 60, T_END - 40 * 60
    fake, removed = _prometheus((start, resolved), 1.0)
    tips = fake.revenue[("fanz-1", "tip", "EUR")]
    late = (resolved < T) & (resolved + 600 >= T)
    recovered = 0.3 * removed
    tips[late] += recovered / late.sum()
    estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(
        ("fanz-1",), start, resolved, settle_end=resolved + 900
    )
    tip = next(s for s in estimate.streams if s.stream == "tip")
    assert tip.window.at_risk_lower <= removed <= tip.window.at_risk_upper
    excess = -tip.after.at_risk
    assert tip.after.at_risk_lower <= -recovered <= tip.after.at_risk_upper
    assert excess == pytest.approx(recovered, rel=0.35)


async def test_a_series_without_history_is_not_forecast_and_says_why() -> None:
    start, end = T_END - 3600, T_END
    fake, _ = _prometheus(None)
    fresh = np.where(start < T, 5.0, np.nan)
    fake.revenue[("fanz-1", "ppv", "JPY")] = fresh
    estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(("fanz-1",), start, end)
    ppv = next(s for s in estimate.streams if s.stream == "ppv")
    assert ppv.baseline == "no history before the incident: nothing to forecast from"
    assert ppv.window.at_risk == 0.0
    assert ppv.window.actual == pytest.approx(5.0 * 60)


async def test_only_the_incident_platforms_are_read() -> None:
    fake, _ = _prometheus(None)
    fake.revenue[("fanz-2", "tip", "USD")] = revenue_curve(T, base=3.0, seed=9)
    estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(("fanz-2",), T_END - 600, T_END)
    assert {(s.platform, s.currency) for s in estimate.streams} == {("fanz-2", "USD")}
    assert 'platform=~"fanz-2"' in fake.queries[0]
    assert fake.queries[0].startswith("sum by (platform, payment_type, currency) (increase(fanz_revenue_total{")


async def test_forecasts_are_kept_within_the_hour_and_refit_past_it() -> None:
    calls: list[float] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["horizon_seconds"])
        return forecast(*args, **kwargs)

    start = T_END - 3 * 3600
    fake, _ = _prometheus((start, T_END))
    estimator = RevenueEstimator(fake, counting, SETTINGS)
    first = await estimator.estimate(("fanz-1",), start, start + 600)
    again = await estimator.estimate(("fanz-1",), start, start + 1200)  # a later round, same hour
    assert calls == [3600.0, 3600.0]  # two series, fitted once
    (_, first_start, _), (_, again_start, again_end) = fake.ranges
    assert first_start == start - 14 * DAY  # the history, read once
    assert (again_start, again_end) == (start + STEP, start + 1200)  # then only the window
    assert again.streams[0].window.expected > first.streams[0].window.expected
    await estimator.estimate(("fanz-1",), start, start + 4000)
    assert calls == [3600.0] * 2 + [7200.0] * 2


async def test_the_chart_series_is_per_minute_in_the_reporting_currency_and_at_most_240_points() -> None:
    start, end = T_END - 6 * 3600, T_END
    fake, _ = _prometheus((T_END - 3600, T_END), 1.0)
    estimate = await RevenueEstimator(fake, forecast, SETTINGS).estimate(("fanz-1",), start, end)
    impact = IncidentImpact(
        incident_id=1,
        computed_at=datetime.fromtimestamp(end, UTC),
        final=False,
        reporting_currency="USD",
        revenue=estimate,
        converter=RateFactors({"EUR": Decimal("1.25")}, "USD"),
        payments=None,
        people=None,
        timings={},
    )
    series = impact.series()
    assert series is not None
    assert len(series["t"]) == 180  # 360 minutes in buckets of 2
    assert series["t"][-1] == end
    total = impact.total(lambda s: s.window)
    assert sum(series["expected"]) * 2 == pytest.approx(total.expected, rel=1e-3)
    assert sum(series["actual"]) * 2 == pytest.approx(total.actual, rel=1e-3)
    assert all(lo <= e <= hi for lo, e, hi in zip(series["lower"], series["expected"], series["upper"], strict=True))
    # the last hour had no tips: actual below the band there, inside it before
    assert series["actual"][-1] < series["lower"][-1]
    assert impact.to_json()["series"] == series
