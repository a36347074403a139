"""Faults are sized to cross the thresholds they are meant to trip, on the buckets the SLOs read.

The real-stack proof is ``tests/stack/test_faults.py``; these are the arithmetic behind it,
with Prometheus's own ``histogram_quantile`` interpolation.
"""

from __future__ import annotations

import bisect

import pytest

from fanzwatch.core.catalog.http import HTTP_DURATION_BUCKETS
from fanzwatch.demo.incidents import FAULTS, IncidentKind, IncidentSeverity
from fanzwatch.demo.simulator.actions import ACTION_WEIGHTS
from fanzwatch.provisioning.definitions import alerts_service as svc

OLD_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def histogram_quantile(q: float, durations: list[float], bounds: tuple[float, ...]) -> float:
    """What Prometheus estimates from the cumulative buckets of ``durations`` (linear in a bucket)."""
    counts = [0] * (len(bounds) + 1)
    for d in durations:
        counts[bisect.bisect_left(bounds, d)] += 1
    rank, seen = q * len(durations), 0
    for i, c in enumerate(counts):
        if seen + c >= rank and c:
            lower = 0.0 if i == 0 else bounds[i - 1]
            if i == len(bounds):
                return bounds[-1]  # +Inf bucket: Prometheus answers the highest finite bound
            return lower + (bounds[i] - lower) * (rank - seen) / c
        seen += c
    raise AssertionError("empty histogram")


def _regressed(latency: float) -> list[float]:
    # The platform's own time (5-80 ms) on top of the injected delay.
    return [latency + 0.005 + 0.075 * i / 999 for i in range(1000)]


def test_the_p95_threshold_is_a_bucket_boundary_with_finer_buckets_above() -> None:
    assert svc.P95_SECONDS_WARNING in HTTP_DURATION_BUCKETS
    i = HTTP_DURATION_BUCKETS.index(svc.P95_SECONDS_WARNING)
    assert HTTP_DURATION_BUCKETS[i + 1] - svc.P95_SECONDS_WARNING <= 0.25
    assert list(HTTP_DURATION_BUCKETS) == sorted(set(HTTP_DURATION_BUCKETS))


def test_the_old_regression_never_crossed_and_the_new_one_does() -> None:
    # The bug as reported: +0.8 s on the old buckets read as 0.9875 s, under 1 s for ever.
    assert histogram_quantile(0.95, [0.8] * 1000, OLD_BUCKETS) == pytest.approx(0.9875)
    latency = IncidentSeverity().latency_seconds
    p95 = histogram_quantile(0.95, _regressed(latency), HTTP_DURATION_BUCKETS)
    assert p95 > svc.P95_SECONDS_WARNING * 1.4
    # And a healthy platform stays far below.
    assert histogram_quantile(0.95, _regressed(0.0), HTTP_DURATION_BUCKETS) < 0.1


def test_a_true_p95_under_the_threshold_never_reads_above_it() -> None:
    slow = [1.1] * 60 + [0.02] * 940  # 6 % above 1 s: the true p95 is above 1 s
    fast = [1.1] * 40 + [0.02] * 960  # 4 % above 1 s: the true p95 is under 1 s
    assert histogram_quantile(0.95, slow, HTTP_DURATION_BUCKETS) > svc.P95_SECONDS_WARNING
    assert histogram_quantile(0.95, fast, HTTP_DURATION_BUCKETS) <= svc.P95_SECONDS_WARNING


def test_error_faults_exceed_their_ratios() -> None:
    assert IncidentSeverity().error_rate > 5 * svc.ERROR_RATIO_CRITICAL
    weights = dict(ACTION_WEIGHTS)
    signups = (weights["register_fan"] + weights["register_creator"]) / sum(weights.values())
    assert signups > 3 * svc.ERROR_RATIO_WARNING  # registration_breakage alone trips the 1 % warning


def test_every_fault_says_what_it_fires() -> None:
    assert set(FAULTS) == set(IncidentKind)
    for kind, effect in FAULTS.items():
        assert effect.alerts or effect.anomalies, kind
        assert 0 < effect.within_seconds <= 600
