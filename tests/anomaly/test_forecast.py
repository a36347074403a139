"""Forecasts and time-to-threshold on synthetic series whose future is known."""

from __future__ import annotations

import numpy as np
import pytest

from fanzwatch.anomaly.forecast import ForecastHorizonError, forecast, time_to_threshold
from fanzwatch.anomaly.insights import DAY

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
HOUR = 3600.0


def _seasonal(seed: int, *, step: float = 300.0, days: float = 8.0, ar: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = T0 + rng.uniform(0, DAY) + np.arange(0, days * DAY, step)
    noise = rng.normal(0, 3, t.size)
    if ar:
        for i in range(1, t.size):
            noise[i] += ar * noise[i - 1]
    return t, 100 + 20 * np.sin(2 * np.pi * t / DAY) + 0.5 * (t - t[0]) / DAY + noise


@pytest.mark.parametrize("ar", [0.0, 0.8])
def test_interval_covers_held_out_points_at_about_its_level(ar: float) -> None:
    coverage = []
    for seed in range(12):
        t, y = _seasonal(seed, ar=ar)
        cut = t.size - 72  # hold out the last 6 hours
        fc = forecast(t[:cut], y[:cut], horizon_seconds=6 * HOUR, level=0.9)
        np.testing.assert_allclose(fc.timestamps, t[cut:])
        held = y[cut:]
        coverage.append(np.mean((held >= fc.lower) & (held <= fc.upper)))
        assert fc.period == "daily"
    assert 0.82 <= float(np.mean(coverage)) <= 0.97


def test_seasonal_forecast_follows_the_daily_shape() -> None:
    t, y = _seasonal(1)
    cut = t.size - 72
    fc = forecast(t[:cut], y[:cut], horizon_seconds=6 * HOUR)
    truth = 100 + 20 * np.sin(2 * np.pi * t[cut:] / DAY) + 0.5 * (t[cut:] - t[0]) / DAY
    assert float(np.mean(np.abs(fc.mean - truth))) < 2.0  # noise sd is 3; the shape is 20
    assert np.all(fc.lower <= fc.mean) and np.all(fc.mean <= fc.upper)


def test_wider_level_gives_wider_interval() -> None:
    t, y = _seasonal(2)
    narrow = forecast(t, y, horizon_seconds=3 * HOUR, level=0.5)
    wide = forecast(t, y, horizon_seconds=3 * HOUR, level=0.95)
    assert np.all(wide.upper - wide.lower > narrow.upper - narrow.lower)


def test_a_persistent_level_shift_is_carried_forward() -> None:
    t, y = _seasonal(3)
    y[-36:] += 40  # the last 3 hours moved up and stay there
    fc = forecast(t, y, horizon_seconds=2 * HOUR)
    assert fc.anchored
    truth = 140 + 20 * np.sin(2 * np.pi * fc.timestamps / DAY) + 0.5 * (fc.timestamps - t[0]) / DAY
    assert float(np.mean(np.abs(fc.mean - truth))) < 6.0


def test_output_is_capped_to_max_points() -> None:
    t, y = _seasonal(4)
    fc = forecast(t, y, horizon_seconds=3 * DAY, max_points=100)
    assert fc.timestamps.size == 100
    assert fc.step_seconds == pytest.approx(3 * DAY / 100)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon_seconds": 0}, "horizon_seconds must be positive"),
        ({"horizon_seconds": 60, "level": 1.0}, "level must be in"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict[str, float], message: str) -> None:
    t, y = _seasonal(5, days=1)
    with pytest.raises(ValueError, match=message):
        forecast(t, y, horizon_seconds=kwargs["horizon_seconds"], level=kwargs.get("level", 0.9))


def test_horizon_longer_than_half_the_history_is_refused_with_a_reason() -> None:
    t = T0 + np.arange(12) * 60.0  # 12 points over 11 minutes (the demo's ramp-up)
    with pytest.raises(ForecastHorizonError, match="11 minutes of data allow 6 minutes, asked for 24 hours"):
        forecast(t, np.linspace(0, 6, 12), horizon_seconds=DAY)


def test_too_few_points() -> None:
    with pytest.raises(ValueError, match="at least 10 points, have 3"):
        forecast(np.arange(4.0), np.array([1.0, np.nan, 2.0, 3.0]), horizon_seconds=60)


def _ramp(
    seed: int, *, per_hour: float, start: float, noise: float, days: float = 3
) -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    t = T0 + np.arange(0, days * DAY, 300.0)
    line = start + per_hour * (t - t[0]) / HOUR
    return t, line + rng.normal(0, noise, t.size), float(line[-1])


def test_time_to_threshold_on_a_linear_ramp() -> None:
    # disk used: 40 % rising 0.5 %/h, full (95 %) at 110 h from the start = 38 h after the last point,
    # beyond the 36 hours three days support: so the ramp starts higher (full 30 h after the end)
    t, y, last = _ramp(0, per_hour=0.5, start=44.0, noise=0.2)
    truth = (95.0 - last) / 0.5 * HOUR
    crossing = time_to_threshold(t, y, 95.0, horizon_seconds=7 * DAY)
    assert crossing.horizon_seconds < 1.5 * DAY + 1  # capped to half of the 3 days of history
    assert crossing.direction == "rising" and not crossing.already_crossed and crossing.within_horizon
    assert crossing.eta_seconds == pytest.approx(truth, rel=0.02)
    assert crossing.earliest_seconds is not None and crossing.latest_seconds is not None
    assert crossing.earliest_seconds <= truth <= crossing.latest_seconds
    assert crossing.eta_seconds is not None
    eta, early, late = (
        round(x / 3600) for x in (crossing.eta_seconds, crossing.earliest_seconds, crossing.latest_seconds)
    )
    assert crossing.describe("disk /") == (
        f"disk / is forecast to rise above 95 in about {eta} hours (90% interval: {early} hours to {late} hours)"
    )


def test_time_to_threshold_falling_free_space() -> None:
    # free bytes falling 2 GB/h from 900 GB: empty 450 h after the start, 66 h after the last point
    t, y, last = _ramp(1, per_hour=-2e9, start=900e9, noise=1e8, days=16)
    truth = last / 2e9 * HOUR  # within half of the 16 days of history
    crossing = time_to_threshold(t, y, 0.0, horizon_seconds=14 * DAY)
    assert crossing.direction == "falling"
    assert crossing.eta_seconds == pytest.approx(truth, rel=0.02)


def test_not_within_horizon_and_already_crossed() -> None:
    t, y, _ = _ramp(2, per_hour=0.01, start=40.0, noise=0.2)
    far = time_to_threshold(t, y, 95.0, horizon_seconds=2 * DAY)
    assert not far.within_horizon and far.eta_seconds is None and far.latest_seconds is None
    # three days of history support 36 hours ahead, not the 2 days asked for
    assert far.horizon_seconds == pytest.approx(1.5 * DAY, abs=600)
    assert far.describe("memory").startswith("memory is not forecast to rise above 95 within 36 hours")
    done = time_to_threshold(t, y, 30.0, horizon_seconds=DAY, direction="rising")
    assert done.already_crossed and done.eta_seconds == 0.0
    assert done.describe("pool") == f"pool has already crossed 30 (now {done.current:.4g})"
