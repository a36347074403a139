"""The default detector on platform-like seasonal series with injected incidents."""

from __future__ import annotations

import numpy as np
import pytest

from fanzwatch.anomaly.detectors import make_detector

from ._synthetic import DAY, seasonal_series, with_incidents


def _first_alert_after(is_anomaly: np.ndarray, start: int) -> int | None:
    hits = np.flatnonzero(is_anomaly[start:])
    return int(hits[0]) if hits.size else None


@pytest.mark.parametrize("step", [300.0, 1800.0])
def test_detects_spike_night_drop_and_level_shift(step: float) -> None:
    t, v, incidents = with_incidents(step)
    batch = make_detector("seasonal").score_batch(t, v)
    three_hours = int(3 * 3600 // step)
    assert _first_alert_after(batch.is_anomaly, incidents.spike) == 0
    assert _first_alert_after(batch.is_anomaly, incidents.night_drop) == 0
    delay = _first_alert_after(batch.is_anomaly, incidents.level_shift)
    assert delay is not None
    assert delay <= three_hours  # a level shift is confirmed within a few points


def test_low_false_alarm_rate_on_clean_seasonal_series() -> None:
    t, v = seasonal_series(step=300.0, days=28)
    batch = make_detector("seasonal").score_batch(t, v)
    # The first weekend and the first Monday are new (the weekly cycle is learned in its
    # first week); after that, 20 days of 5-minute points raise no alarm at all.
    first_week = t < t[0] + 8 * DAY
    assert batch.is_anomaly[first_week].sum() <= 5
    assert batch.is_anomaly[~first_week].sum() == 0
    # evening peaks are inside the expected range
    peak = (t % DAY == 16 * 3600) & (t >= t[0] + 7 * DAY)
    inside = (batch.lower[peak] <= v[peak]) & (v[peak] <= batch.upper[peak])
    assert inside.mean() >= 0.9


def test_seed_baseline_shows_the_guides_defect() -> None:
    """The guide's global z-score flags peaks and misses the night-time drop."""
    t, v, incidents = with_incidents(300.0)
    seed = make_detector("seed").score_batch(t, v)
    seasonal = make_detector("seasonal").score_batch(t, v)
    drop = slice(incidents.night_drop, incidents.night_drop + 12)
    assert not seed.is_anomaly[drop].any()
    assert seasonal.is_anomaly[drop].any()
    clean = t < t[incidents.spike]
    assert seed.is_anomaly[clean].sum() > 5 * seasonal.is_anomaly[clean].sum()


def test_one_incident_raises_one_alert() -> None:
    t, v, incidents = with_incidents(300.0)
    batch = make_detector("seasonal").score_batch(t, v)
    after_spike = batch.is_anomaly[incidents.spike : incidents.spike + 36]
    assert after_spike.sum() == 1


def test_uses_the_series_own_step_for_seasonality() -> None:
    """A 1-minute series compares each point with exactly one day earlier, not 288 points."""
    t, v = seasonal_series(step=60.0, days=3)
    d = make_detector("seasonal")
    d.score_batch(t, v)
    assert d._daily is not None and d._weekly is not None  # internal state of the detector
    assert d._daily.buckets == 1440
    assert d._weekly.buckets == 10080
