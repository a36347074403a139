"""The unprecedented-texture rule: roughness, spread or rhythm that changes as never before."""

from __future__ import annotations

import numpy as np

from fanzwatch.anomaly.detectors import SeasonalCusumDetector, SeasonalCusumParams
from fanzwatch.anomaly.detectors._texture import TextureChange, TextureParams
from fanzwatch.anomaly.nab import load_windows, read_csv_columns, window_rows

from ._synthetic import seasonal_series, with_incidents
from .test_nab_scorer import NAB


def _fires(values: np.ndarray, params: TextureParams | None = None) -> np.ndarray:
    rule = TextureChange(1e-3, params)
    return np.array([rule.update(float(x)) for x in values])


def test_noise_that_turns_smooth_at_the_same_level_and_spread_fires_once() -> None:
    """White noise of sd 1 for 3,000 points, then a slow wave of the same sd: the level and the
    spread do not move, the roughness and the rhythm do."""
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(3000)
    wave = np.sqrt(2.0) * np.sin(np.arange(600) * 2 * np.pi / 100.0)
    fires = _fires(np.concatenate([noise, wave]))
    assert not fires[:3000].any()
    assert np.count_nonzero(fires) == 1
    assert 3000 < int(np.argmax(fires)) < 3000 + 72


def test_a_texture_like_one_seen_before_does_not_fire_again() -> None:
    """Bursts of roughness every 1,000 points: the first may be unprecedented, the later ones are
    no larger than what the series has done before."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(8000)
    for start in range(1500, 8000, 1000):
        x[start : start + 100] *= 3.0
    fires = _fires(x)
    assert np.count_nonzero(fires[2600:]) == 0


def test_nothing_fires_before_the_reference_is_built() -> None:
    p = TextureParams()
    x = np.concatenate([np.zeros(p.window + p.min_reference - 1), 1e6 * np.arange(10.0)])
    assert not _fires(x[: p.window + p.min_reference - 1], p).any()


def test_an_ordinary_seasonal_series_raises_the_same_alarms_with_and_without_the_rule() -> None:
    """28 days of a daily and weekly cycle, with and without three incidents: the rule adds nothing."""
    t, v, _ = with_incidents()
    for values in (v, seasonal_series(days=28, seed=11)[1]):
        with_rule = SeasonalCusumDetector().score_batch(t, values)
        without = SeasonalCusumDetector(SeasonalCusumParams(texture=None)).score_batch(t, values)
        assert np.array_equal(with_rule.active, without.active)
        assert np.array_equal(with_rule.is_anomaly, without.is_anomaly)


def test_denser_spikes_at_the_same_level_are_caught_in_nab_window() -> None:
    """NAB's ``art_increase_spike_density``: spikes of the usual size come far more often. No band
    or CUSUM sees it (the previous default missed the window); the texture rule does."""
    name = "artificialWithAnomaly/art_increase_spike_density.csv"
    series = read_csv_columns(NAB / "data" / name, "value")
    ((left, right),) = window_rows(series.timestamps, load_windows(NAB / "labels" / "combined_windows.json")[name])
    now = SeasonalCusumDetector().score_batch(series.seconds, series.values)
    before = SeasonalCusumDetector(SeasonalCusumParams(texture=None)).score_batch(series.seconds, series.values)
    assert now.is_anomaly[left : right + 1].any()
    assert not before.is_anomaly[left : right + 1].any()
    assert np.count_nonzero(now.is_anomaly) == np.count_nonzero(before.is_anomaly) + 1
