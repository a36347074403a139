"""The default detector on platform-like seasonal series with injected incidents."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fanzwatch.anomaly.detectors import SeasonalDetector, SeasonalDetectorParams, make_detector
from fanzwatch.anomaly.detectors._likelihood import AnomalyLikelihood

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
    d = SeasonalDetector()
    d.score_batch(t, v)
    assert d._daily is not None and d._weekly is not None  # internal state of the detector
    assert d._daily.buckets == 1440
    assert d._weekly.buckets == 10080


def test_likelihood_is_the_normal_tail_of_the_short_mean_with_floors() -> None:
    lk = AnomalyLikelihood(short=2, history=4, min_count=3)
    early = [lk.update(0.1) for _ in range(5)]
    assert early == [1.0, 1.0, 1.0, 1.0, 1.0]  # under min_count, then at the mean: nothing unusual
    # Short mean (0.1 + 0.9) / 2 = 0.5 against means that were all 0.1: variance floored.
    z = (0.5 - 0.1) / math.sqrt(0.0003)
    assert lk.update(0.9) == pytest.approx(0.5 * math.erfc(z / math.sqrt(2.0)), rel=1e-12)
    below = AnomalyLikelihood(short=1, history=10, min_count=3)
    for _ in range(5):
        below.update(0.5)
    assert below.update(0.0) == 1.0  # lower than usual is never anomalous


def test_likelihood_running_sums_match_a_recomputation_over_the_window() -> None:
    rng = np.random.default_rng(2)
    raws = rng.random(2500)
    short, history = 10, 300
    lk = AnomalyLikelihood(short=short, history=history, min_count=50)
    got = [lk.update(float(r)) for r in raws]
    sums = np.convolve(np.concatenate([np.zeros(short - 1), raws]), np.ones(short), mode="valid")
    means = sums / np.minimum(np.arange(1, len(raws) + 1), short)
    for i in (1000, 1777, 2499):
        past = means[max(0, i - history) : i]
        mean, var = max(past.mean(), 0.03), max(past.var(), 0.0003)
        zz = (means[i] - mean) / math.sqrt(var)
        expected = 0.5 * math.erfc(zz / math.sqrt(2.0)) if zz > 0 else 1.0
        assert got[i] == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_likelihood_only_adds_evidence_it_never_hides_an_alert() -> None:
    """With the likelihood off, every alert of the default detector on the incidents remains."""
    t, v, incidents = with_incidents(300.0)
    with_lk = SeasonalDetector().score_batch(t, v)
    without = SeasonalDetector(SeasonalDetectorParams(likelihood=False)).score_batch(t, v)
    assert with_lk.scores.min() >= 0.0
    for start in (incidents.spike, incidents.night_drop):
        assert with_lk.is_anomaly[start] and without.is_anomaly[start]
    # Before any alert rests the detector, the likelihood can only raise a score.
    first = int(np.flatnonzero(without.is_anomaly | with_lk.is_anomaly)[0])
    assert (with_lk.scores[:first] >= without.scores[:first]).all()
