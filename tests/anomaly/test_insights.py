"""Trend and seasonality on synthetic series whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from fanzwatch.anomaly.insights import (
    DAY,
    Analysis,
    analyze,
    analyze_seasonality,
    analyze_trend,
    human_duration,
    insight_sentences,
    mann_kendall,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _series(
    step: float,
    days: float,
    *,
    seed: int = 0,
    slope_pct: float = 0.0,
    daily: float = 0.0,
    weekend: float = 0.0,
    noise: float = 3.0,
    level: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(0, days * DAY, step)
    elapsed_days = (t - t[0]) / DAY
    y = level * (1 + slope_pct / 100 * elapsed_days)
    y = y + daily * np.sin(2 * np.pi * t / DAY)
    y = y - weekend * (((t // DAY) + 3) % 7 >= 5)  # 1970-01-01 was a Thursday: +3 makes Monday 0
    return t, y + rng.normal(0, noise, t.size)


@pytest.mark.parametrize("step", [60.0, 300.0, 3600.0])
def test_known_slope_is_found_and_significant(step: float) -> None:
    t, y = _series(step, 7, slope_pct=2.0, daily=20.0, seed=1)
    trend = analyze(t, y).trend
    assert trend is not None
    assert trend.significant and trend.direction == "increasing"
    assert trend.p_value < 1e-6
    # 2 units/day on a level of 100: within 10 % of the truth, and the CI holds it
    assert trend.slope_per_day == pytest.approx(2.0, rel=0.1)
    assert trend.slope_low_per_day <= 2.0 <= trend.slope_high_per_day
    # percent per day is relative to the level (median ~107 over the week)
    assert trend.pct_per_day == pytest.approx(2.0 * 100 / np.median(np.abs(y)), rel=0.1)


def test_falling_slope_is_decreasing() -> None:
    t, y = _series(300.0, 7, slope_pct=-3.0, seed=2)
    trend = analyze_trend(t, y)
    assert trend is not None and trend.significant and trend.direction == "decreasing"
    assert trend.slope_per_day == pytest.approx(-3.0, rel=0.1)


@pytest.mark.parametrize(("kind", "days"), [("noise", 7), ("daily", 7), ("weekly", 15)])
def test_flat_series_are_rarely_significant(kind: str, days: int) -> None:
    # 40 independent flat series: a 5 % test flags about 2; more than 5 would mean a broken test
    flagged = 0
    for seed in range(40):
        t, y = _series(
            300.0,
            days,
            seed=100 + seed,
            daily=20.0 if kind != "noise" else 0.0,
            weekend=15.0 if kind == "weekly" else 0.0,
        )
        trend = analyze(t + seed * 3917.0, y).trend  # shift the phase too
        assert trend is not None
        flagged += trend.significant
    assert flagged <= 5


def test_a_scale_free_trend_needs_no_metric_specific_threshold() -> None:
    # the same relative trend on a ratio (~0.02) and on a rate (~2000) gives the same % per day
    t, y = _series(300.0, 7, slope_pct=5.0, noise=0.0005, level=0.02, seed=3)
    small = analyze_trend(t, y)
    t, y = _series(300.0, 7, slope_pct=5.0, noise=50.0, level=2000.0, seed=3)
    large = analyze_trend(t, y)
    assert small is not None and large is not None
    assert small.significant and large.significant
    assert small.pct_per_day == pytest.approx(large.pct_per_day, rel=0.05)


def test_mann_kendall_tie_correction_and_trivial_cases() -> None:
    assert mann_kendall(np.array([1.0, 2.0])) == 1.0
    assert mann_kendall(np.ones(20)) == 1.0  # all ties: variance is zero, no trend
    steps = np.repeat(np.arange(10.0), 3)  # monotone with ties: still significant
    assert mann_kendall(steps) < 1e-6


@pytest.mark.parametrize(
    ("step", "daily_lag", "weekly_lag"), [(60.0, 1440, 10080), (300.0, 288, 2016), (3600.0, 24, 168)]
)
def test_daily_and_weekly_seasonality_at_the_real_lags(step: float, daily_lag: int, weekly_lag: int) -> None:
    t, y = _series(step, 15, daily=20.0, weekend=15.0, seed=4)
    season = analyze_seasonality(t, y)
    assert season is not None
    assert season.step_seconds == step
    assert (season.daily.lag_points, season.weekly.lag_points) == (daily_lag, weekly_lag)
    assert season.daily.detected and season.weekly.detected
    assert season.daily.acf is not None and season.daily.band is not None
    assert season.daily.acf > 0.5 > season.daily.band
    assert season.pattern == "daily and weekly"


@pytest.mark.parametrize("step", [60.0, 300.0, 3600.0])
def test_a_daily_pattern_is_not_called_weekly(step: float) -> None:
    # every daily pattern also repeats after 7 days; weekly is judged without the daily profile
    t, y = _series(step, 15, daily=20.0, seed=5)
    season = analyze_seasonality(t, y)
    assert season is not None
    assert season.daily.detected and not season.weekly.detected
    assert season.pattern == "daily"


def test_noise_has_no_seasonality() -> None:
    t, y = _series(300.0, 15, seed=6)
    season = analyze_seasonality(t, y)
    assert season is not None
    assert not season.detected and season.pattern is None and season.strength == 0.0


def test_a_weekday_weekend_step_is_weekly_not_daily() -> None:
    t, y = _series(300.0, 15, weekend=30.0, seed=7)
    season = analyze_seasonality(t, y)
    assert season is not None
    assert season.weekly.detected and not season.daily.detected


def test_series_shorter_than_a_period_are_not_judged() -> None:
    t, y = _series(300.0, 1.5, daily=20.0, seed=8)
    season = analyze_seasonality(t, y)
    assert season is not None
    assert season.daily.acf is None and not season.daily.detected
    assert season.daily.reason == "needs at least 2 days of data, have 1.5"
    assert season.weekly.reason == "needs at least 14 days of data, have 1.5"


def test_gaps_and_nan_do_not_break_the_analysis() -> None:
    t, y = _series(300.0, 8, daily=20.0, slope_pct=2.0, seed=9)
    y[100:400] = np.nan  # a day without data
    keep = np.ones(t.size, dtype=bool)
    keep[1000:1100] = False  # and points missing altogether
    result = analyze(t[keep], y[keep])
    assert result.seasonality is not None and result.seasonality.daily.detected
    assert result.seasonality.step_seconds == 300.0
    assert result.trend is not None and result.trend.significant


def test_no_trend_from_less_than_two_days_of_ramp_up() -> None:
    t = 1_700_000_000.0 + np.arange(0, 12 * 60.0, 60.0)  # 11 minutes of a service warming up
    result = analyze(t, np.linspace(0.1, 6.0, t.size))
    assert result.trend is None
    assert result.reason == "no trend: needs at least 2 days of data, have 0.0"
    assert insight_sentences("request_rate on fanz-1", result) == []


def test_the_guides_sentences_are_said_only_when_true() -> None:
    t, y = _series(300.0, 7, daily=20.0, slope_pct=2.0, seed=10)
    result = analyze(t, y)
    assert result.trend is not None and result.trend.pct_per_day is not None
    assert result.seasonality is not None and result.seasonality.daily.acf is not None
    pct, acf = result.trend.pct_per_day, result.seasonality.daily.acf
    low, high = result.trend.pct_low_per_day, result.trend.pct_high_per_day
    assert 1.5 < pct < 2.5 and acf > 0.9
    assert low is not None and high is not None and low <= pct <= high
    ci = f"95% CI {low:+.1f}% to {high:+.1f}%"
    assert insight_sentences("request_rate on fanz-1", result) == [
        f"request_rate on fanz-1 shows an increasing trend over the last 7 days ({pct:+.1f}% per day, {ci}, p < 0.001)",
        f"request_rate on fanz-1 exhibits a daily seasonal pattern (autocorrelation {acf:.2f} at the 1-day lag)",
    ]
    t, y = _series(300.0, 7, slope_pct=-1.0, seed=12)
    (sentence,) = insight_sentences("active_users on fanz-2", analyze(t, y))
    assert sentence.startswith("active_users on fanz-2 shows a decreasing trend over the last 7 days (-1.")
    t, y = _series(300.0, 7, seed=11)
    assert insight_sentences("x", analyze(t, y)) == []


def test_too_few_points_give_a_reason_not_an_error() -> None:
    result = analyze(np.arange(5.0), np.arange(5.0))
    assert result == Analysis(None, None, reason="needs at least 10 points, have 5")
    assert insight_sentences("x", result) == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (7 * DAY - 300, "7 days"),
        (2.5 * DAY, "2.5 days"),
        (36 * 3600, "36 hours"),
        (600, "10 minutes"),
        (30, "30 seconds"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
