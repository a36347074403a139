"""Detector contract: registry, purity, causality, batch = streaming, awkward series."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fanzwatch.anomaly.detectors import (
    DEFAULT_DETECTOR,
    DETECTORS,
    SeasonalCusumDetector,
    SeasonalCusumParams,
    UnknownDetectorError,
    make_detector,
    severity_for,
)
from fanzwatch.core.models import Severity

from ._synthetic import seasonal_series, with_incidents


def _awkward_series() -> tuple[np.ndarray, np.ndarray]:
    """Seasonal data with NaNs, a 6-hour gap, duplicate and out-of-order stamps."""
    t, v, _ = with_incidents()
    t, v = t[: 9 * 288].copy(), v[: 9 * 288].copy()
    v[100:110] = np.nan
    v[500] = np.inf
    keep = np.ones(len(t), dtype=bool)
    keep[1000:1072] = False  # a 6-hour gap in the timestamps
    t, v = t[keep], v[keep]
    t[1500] = t[1499]  # a duplicate stamp
    return t, v


def test_registry_names_and_default() -> None:
    assert DETECTORS == ("seasonal-cusum", "seasonal", "gaussian", "seed")
    assert DEFAULT_DETECTOR == "seasonal-cusum"
    assert isinstance(make_detector(), SeasonalCusumDetector)
    assert make_detector("seasonal") is not make_detector("seasonal")


def test_unknown_detector_is_a_clear_value_error() -> None:
    with pytest.raises(
        UnknownDetectorError, match="unknown detector 'nope'; choose one of: seasonal-cusum, seasonal, gaussian, seed"
    ):
        make_detector("nope")
    assert issubclass(UnknownDetectorError, ValueError)


@pytest.mark.parametrize("name", DETECTORS)
def test_batch_equals_point_by_point_updates(name: str) -> None:
    t, v = _awkward_series()
    batch = make_detector(name).score_batch(t, v)
    streaming = make_detector(name)
    points = [streaming.update(float(a), float(b)) for a, b in zip(t, v, strict=True)]
    np.testing.assert_array_equal(batch.scores, [p.score for p in points])
    np.testing.assert_array_equal(batch.lower, [p.lower for p in points])
    np.testing.assert_array_equal(batch.upper, [p.upper for p in points])
    np.testing.assert_array_equal(batch.deviation, [p.deviation for p in points])
    np.testing.assert_array_equal(batch.is_anomaly, [p.is_anomaly for p in points])


@pytest.mark.parametrize("name", DETECTORS)
def test_scores_are_causal(name: str) -> None:
    t, v, _ = with_incidents()
    whole = make_detector(name).score_batch(t, v)
    for cut in (50, 3000, 7000):
        prefix = make_detector(name).score_batch(t[:cut], v[:cut])
        np.testing.assert_array_equal(prefix.scores, whole.scores[:cut])
        np.testing.assert_array_equal(prefix.lower, whole.lower[:cut])


@pytest.mark.parametrize("name", DETECTORS)
def test_batch_continues_from_current_state(name: str) -> None:
    t, v, _ = with_incidents()
    whole = make_detector(name).score_batch(t, v)
    d = make_detector(name)
    first, second = d.score_batch(t[:4000], v[:4000]), d.score_batch(t[4000:], v[4000:])
    np.testing.assert_array_equal(np.concatenate([first.scores, second.scores]), whole.scores)


@pytest.mark.parametrize("name", DETECTORS)
def test_scores_in_unit_interval_and_bad_points_ignored(name: str) -> None:
    t, v = _awkward_series()
    batch = make_detector(name).score_batch(t, v)
    assert batch.scores.min() >= 0.0
    assert batch.scores.max() <= 1.0
    bad = ~np.isfinite(v)
    assert bad.sum() == 11
    assert not batch.scores[bad].any()
    assert not batch.is_anomaly[bad].any()
    assert np.isnan(batch.lower[bad]).all()
    assert batch.scores[1500] == 0.0  # duplicate timestamp: ignored


@pytest.mark.parametrize("name", DETECTORS)
def test_flat_series_never_alarms_and_never_divides_by_zero(name: str) -> None:
    t = np.arange(0.0, 3000 * 60.0, 60.0)
    batch = make_detector(name).score_batch(t, np.full(len(t), 42.0))
    assert not batch.scores.any()
    assert not batch.is_anomaly.any()
    finite = np.isfinite(batch.lower)
    assert finite.sum() > len(t) - 200
    assert (batch.lower[finite] <= 42.0).all()
    assert (batch.upper[finite] >= 42.0).all()


@pytest.mark.parametrize("name", DETECTORS)
def test_change_of_a_flat_series_is_an_anomaly(name: str) -> None:
    t = np.arange(0.0, 3000 * 60.0, 60.0)
    v = np.full(len(t), 42.0)
    v[2500] = 50.0
    batch = make_detector(name).score_batch(t, v)
    assert batch.scores[2500] >= (0.95 if name == "seasonal-cusum" else 1.0)
    assert bool(batch.is_anomaly[2500])
    assert np.flatnonzero(batch.is_anomaly).tolist() == [2500]


def test_counter_reset_is_not_an_anomaly() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 6 * 86400.0, 300.0)
    increments = rng.poisson(120, len(t)).astype(float)
    counter = np.cumsum(increments)
    counter[1200:] -= counter[1199]  # the process restarted: the counter starts again from 0
    batch = make_detector("seasonal").score_batch(t, counter)
    assert not batch.is_anomaly[1195:1210].any()
    assert batch.scores[1200] == 0.0
    # the expected range is about the previous value plus one step's increase
    assert batch.lower[1300] < counter[1300] < batch.upper[1300]
    assert batch.upper[1300] - batch.lower[1300] < 200.0


def test_counter_surge_is_an_anomaly() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(0.0, 6 * 86400.0, 300.0)
    increments = rng.poisson(120, len(t)).astype(float)
    increments[1400:1410] *= 6  # the rate jumps six-fold
    batch = make_detector("seasonal").score_batch(t, np.cumsum(increments))
    assert batch.is_anomaly[1400:1403].any()


def test_gap_in_timestamps_does_not_raise_false_alarms() -> None:
    t, v = seasonal_series(days=14)
    keep = np.ones(len(t), dtype=bool)
    keep[2000:2300] = False  # 25 hours missing
    batch = make_detector("seasonal").score_batch(t[keep], v[keep])
    after_gap = batch.is_anomaly[2000:]
    assert after_gap.sum() == 0


def test_warm_up_has_no_range_and_no_score() -> None:
    t, v = seasonal_series(days=2)
    batch = make_detector("seasonal").score_batch(t, v)
    assert np.isnan(batch.lower[:30]).all()
    assert np.isfinite(batch.lower[30:]).all()
    assert not batch.scores[:288].any()  # novelty needs a day of history


def test_update_reports_severity_from_deviation() -> None:
    t = np.arange(0.0, 3000 * 60.0, 60.0)
    d = make_detector("seasonal")
    for a in t[:-1]:
        d.update(float(a), 42.0)
    score = d.update(float(t[-1]), 50.0)
    assert score.is_anomaly
    assert score.deviation > 6.0
    assert score.severity is Severity.CRITICAL
    normal = make_detector("seasonal").update(0.0, 1.0)
    assert normal.severity is None
    assert math.isnan(normal.lower)


@pytest.mark.parametrize(
    ("deviation", "severity"),
    [
        (0.0, Severity.INFO),
        (2.99, Severity.INFO),
        (3.0, Severity.WARNING),
        (5.9, Severity.WARNING),
        (6.0, Severity.CRITICAL),
    ],
)
def test_severity_for(deviation: float, severity: Severity) -> None:
    assert severity_for(deviation) is severity


def test_score_batch_rejects_mismatched_arrays() -> None:
    with pytest.raises(ValueError, match="1-D arrays of one length"):
        make_detector("seed").score_batch(np.arange(3.0), np.arange(4.0))


@pytest.mark.parametrize("end_hour", [3.3, 15.3])  # hours at which a one-hour warm-up missed it
def test_five_second_series_learns_the_whole_day_and_flags_a_drop_to_a_fifth(end_hour: float) -> None:
    """At a 5 s step the warm-up spans the day (not its first 720 points, one hour): the band is
    the noise's, and users falling to a fifth fire at once, whatever the hour."""
    end = 20 * 86400.0 + end_hour * 3600
    t = np.arange(end - 2 * 86400.0, end, 5.0)
    rng = np.random.default_rng(3)
    users = 800 * (1 + 0.4 * np.sin(2 * np.pi * t / 86400.0)) * (1 + 0.02 * rng.standard_normal(t.size))
    detector = SeasonalCusumDetector()
    before = detector.score_batch(t, users)
    assert not before.is_anomaly[t >= t[0] + 86400.0].any()
    assert before.lower[-1] > 0.85 * users[-1] and before.upper[-1] < 1.15 * users[-1]
    after = detector.score_batch(t[-1] + 5.0 * np.arange(1, 4), 0.2 * users[-3:])
    assert after.is_anomaly[0]


def test_a_series_that_stops_moving_is_flagged_once_even_inside_its_band() -> None:
    """A stuck gauge (one value repeated for 90 minutes around the daily peak, where the curve
    is flat) is a changed pattern at an unchanged level: the band and the CUSUMs cannot see it,
    the run of unchanged values can."""
    t, v = seasonal_series(days=5)
    stuck = v.copy()
    start = 3 * 288 + 15 * 12 + 3  # day 4, 15:15
    stuck[start : start + 18] = v[start - 3 : start + 15].mean()
    batch = SeasonalCusumDetector().score_batch(t, stuck)
    assert np.count_nonzero(batch.is_anomaly) == 1
    assert batch.is_anomaly[start:].any()
    plain = SeasonalCusumDetector(SeasonalCusumParams(flat_factor=0.0)).score_batch(t, stuck)
    assert not plain.is_anomaly.any()


def test_usual_runs_of_zeros_are_not_a_stuck_series() -> None:
    """Sign-ups near zero every night give long runs of zeros; a night like the others is no alarm."""
    t, v = seasonal_series(days=14)
    rng = np.random.default_rng(5)
    counts = rng.poisson(np.maximum(v / 200.0 - 1.0, 0.0)).astype(np.float64)
    assert np.count_nonzero(counts == 0) > 0.2 * counts.size
    with_rule = SeasonalCusumDetector().score_batch(t, counts)
    without = SeasonalCusumDetector(SeasonalCusumParams(flat_factor=0.0)).score_batch(t, counts)
    assert np.array_equal(with_rule.is_anomaly, without.is_anomaly)
