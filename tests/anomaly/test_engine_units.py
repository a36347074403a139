"""The engine's pure parts: watch-list, episodes, the Alertmanager outbox, payloads, settings."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from fanzwatch.anomaly.detectors import BatchScores, make_detector
from fanzwatch.anomaly.engine import AnomalyAlert, AnomalyEngine, build_watchlist
from fanzwatch.anomaly.engine.alertmanager import format_value
from fanzwatch.anomaly.engine.episodes import EpisodeTracker
from fanzwatch.anomaly.engine.outbox import AlertOutbox
from fanzwatch.anomaly.engine.series import SeriesState
from fanzwatch.core import CATALOG, Severity
from fanzwatch.core.catalog.anomaly import WATCHED_SIGNALS
from fanzwatch.core.clock import FrozenClock
from fanzwatch.settings.anomaly import AnomalySettings

PROMQL_WORDS = {"sum", "by", "rate", "histogram_quantile", "or", "platform", "le", "status_class", "status"}


def test_watchlist_is_the_six_signals_with_catalog_names_only() -> None:
    signals = build_watchlist(rate_window_seconds=300)
    assert tuple(s.key for s in signals) == WATCHED_SIGNALS
    for s in signals:
        bare = re.sub(r"\[\d+s\]", "", re.sub(r'"[^"]*"', "", s.expr))  # no strings, no windows
        names = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", bare)) - PROMQL_WORDS
        assert names and all(CATALOG.knows_series(n) for n in names), (s.key, names)
        assert "by (platform" in s.expr
        assert "[300s]" in s.expr or s.key == "active_users"
    sides = {s.key: s.alert_on for s in signals}
    assert sides == {
        "request_rate": "both",
        "latency_p95": "high",
        "error_ratio": "high",
        "registrations": "both",
        "payment_success_ratio": "low",
        "active_users": "both",
    }


def _batch(values: list[float], *, anomalous: set[int], lower: float = 90.0, upper: float = 110.0) -> BatchScores:
    n = len(values)
    v = np.array(values, dtype=np.float64)
    flags = np.array([i in anomalous for i in range(n)])
    deviation = np.where((v > upper) | (v < lower), np.minimum(np.abs(v - 100) / 5, 10), 0.0)
    return BatchScores(
        timestamps=np.arange(n, dtype=np.float64) * 60,
        values=v,
        scores=np.where(flags, 0.9, 0.1),
        lower=np.full(n, lower),
        upper=np.full(n, upper),
        is_anomaly=flags,
        deviation=deviation,
    )


def test_episode_starts_on_a_flag_lasts_while_outside_and_ends_after_resolve_points() -> None:
    tracker = EpisodeTracker("active_users", "fanz-1", side="both", fire_after=2, resolve_after=3)
    # a flag, one more point outside (fires), two outside, then back: 3 normal points end it
    values = [100, 100, 40, 45, 50, 52, 100, math.nan, 101, 99, 100]
    ended = tracker.observe(_batch(values, anomalous={2}))
    (episode,) = ended
    assert (episode.started_at, episode.ended_at) == (120.0, 540.0)  # the NaN at 420 s does not count
    assert episode.end_reason == "back in the expected range"
    assert episode.severity is Severity.CRITICAL  # deviation 12 spreads -> capped 10 -> critical
    assert episode.peak_score == 0.9 and tracker.current is None


def test_a_one_sided_signal_ignores_the_good_side() -> None:
    tracker = EpisodeTracker("error_ratio", "fanz-1", side="high", fire_after=1, resolve_after=1)
    assert tracker.observe(_batch([100, 20, 20], anomalous={1})) == [] and tracker.current is None
    tracker.observe(_batch([100, 180, 180], anomalous={1}))
    assert tracker.current is not None and tracker.current.value == 180


def test_severity_only_rises_during_an_episode() -> None:
    tracker = EpisodeTracker("request_rate", "fanz-1", side="both", fire_after=1, resolve_after=5)
    tracker.observe(_batch([100, 112, 125, 160, 112], anomalous={1}))
    assert tracker.current is not None
    assert tracker.current.severity is Severity.CRITICAL and tracker.current.value == 112


def _state(platform: str = "fanz-1") -> SeriesState:
    (signal,) = [s for s in build_watchlist(rate_window_seconds=300) if s.key == "active_users"]
    return SeriesState(signal, platform, make_detector("seasonal"), fire_after=1, resolve_after=1, capacity=10)


NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_outbox_fires_resends_escalates_and_resolves() -> None:
    outbox = AlertOutbox(resend_seconds=60, ttl_seconds=300)
    state = _state()
    state.episodes.observe(_batch([100, 125], anomalous={1}))  # warning (deviation 5)
    plan = outbox.plan([state], now=NOW, monotonic=0.0)
    (alert,) = plan.alerts
    assert (alert.severity, alert.ends_at, plan.firing) == (Severity.WARNING, NOW + timedelta(seconds=300), 1)
    assert len(outbox.plan([state], now=NOW, monotonic=10.0).alerts) == 1  # not accepted yet: planned again
    outbox.accepted(plan)
    assert outbox.plan([state], now=NOW, monotonic=30.0).alerts == []  # not due yet
    assert len(outbox.plan([state], now=NOW, monotonic=60.0).alerts) == 1  # re-send before endsAt
    # escalation: the warning alert is resolved, a critical one fired
    state.episodes.observe(_batch([160], anomalous=set()))
    plan = outbox.plan([state], now=NOW, monotonic=61.0)
    resolved, fired = plan.alerts
    assert (resolved.severity, resolved.ends_at) == (Severity.WARNING, NOW)
    assert (fired.severity, fired.labels["priority"]) == (Severity.CRITICAL, "P0")
    outbox.accepted(plan)
    # the episode ends: one resolution with endsAt = now
    state.episodes.observe(_batch([100], anomalous=set()))
    later = NOW + timedelta(minutes=5)
    plan = outbox.plan([state], now=later, monotonic=400.0)
    (resolution,) = plan.alerts
    assert (resolution.severity, resolution.ends_at, plan.resolved) == (Severity.CRITICAL, later, 1)
    # not accepted (Alertmanager down): planned again next time
    assert outbox.plan([state], now=later, monotonic=460.0).alerts == [resolution]
    outbox.accepted(plan)
    assert outbox.plan([state], now=later, monotonic=460.0).alerts == [] and outbox.told == 0


def test_outbox_holds_back_below_min_severity_and_unknown_signals() -> None:
    state = _state()
    state.episodes.observe(_batch([100, 111], anomalous={1}))  # info (deviation 2.2)
    assert (
        AlertOutbox(resend_seconds=60, ttl_seconds=300, min_severity=Severity.WARNING)
        .plan([state], now=NOW, monotonic=0.0)
        .alerts
        == []
    )
    outbox = AlertOutbox(resend_seconds=60, ttl_seconds=300)
    assert outbox.plan([state], now=NOW, monotonic=0.0, unknown=frozenset({"active_users"})).alerts == []
    assert len(outbox.plan([state], now=NOW, monotonic=0.0).alerts) == 1


def test_alert_payload_is_what_alertmanager_v2_takes() -> None:
    alert = AnomalyAlert(
        metric="error_ratio",
        platform="fanz-3",
        severity=Severity.CRITICAL,
        title="5xx ratio",
        unit="ratio",
        value=0.31,
        lower=0.001,
        upper=0.02,
        score=0.98,
        starts_at=NOW,
        ends_at=NOW + timedelta(minutes=5),
    )
    assert alert.payload("http://fanzdash/anomalies") == {
        "labels": {
            "alertname": "MetricAnomaly",
            "metric": "error_ratio",
            "platform": "fanz-3",
            "severity": "critical",
            "priority": "P0",
            "service": "fanzwatch-anomaly",
        },
        "annotations": {
            "summary": "5xx ratio on fanz-3 is anomalous: 31.00%, expected 0.10% to 2.00%",
            "description": "5xx ratio (error_ratio) on fanz-3 is 31.00%, above its expected range 0.10% to 2.00% "
            "for this time of day and week (anomaly score 0.98, severity critical, priority P0).",
            "actual_value": "0.31",
            "expected_range": "0.001 - 0.02",
            "expected_lower": "0.001",
            "expected_upper": "0.02",
            "anomaly_score": "0.980",
            "unit": "ratio",
        },
        "startsAt": "2026-01-01T12:00:00Z",
        "endsAt": "2026-01-01T12:05:00Z",
        "generatorURL": "http://fanzdash/anomalies",
    }


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "ratio", "1.23%"),
        (0.412, "seconds", "412 ms"),
        (2.5, "seconds", "2.50 s"),
        (12.34, "requests/s", "12.3 requests/s"),
        (1234.0, "users", "1,234 users"),
        (math.nan, "users", "unknown"),
    ],
)
def test_values_are_formatted_for_people(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alert_ttl_seconds": 30, "alert_resend_seconds": 60}, "alert_ttl_seconds must exceed"),
        ({"rate_window_seconds": 30, "step_seconds": 60}, "rate_window_seconds must be at least step_seconds"),
        ({"prometheus_url": "localhost:9090"}, "is not an http"),
        ({"max_points_per_query": 20_000}, "less than or equal to 11000"),
    ],
)
def test_settings_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AnomalySettings(**kwargs)  # type: ignore[arg-type]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_ANOMALY_ALERTMANAGER_URL", "")
    monkeypatch.setenv("FANZWATCH_ANOMALY_STEP_SECONDS", "30")
    monkeypatch.setenv("FANZWATCH_ANOMALY_ALERT_MIN_SEVERITY", "critical")
    s = AnomalySettings()
    assert (s.alertmanager_url, s.step_seconds, s.alert_min_severity) == (None, 30.0, Severity.CRITICAL)


async def test_before_its_first_evaluation_the_engine_is_blind_only_after_the_start_up_grace() -> None:
    """A stack booting together (server before Prometheus) is not a blind engine; one that never reads is."""

    clock = FrozenClock(datetime(2026, 12, 4, 12, tzinfo=UTC))
    settings = AnomalySettings(
        prometheus_url="http://127.0.0.1:9", alertmanager_url=None, blind_after_seconds=120, startup_grace_seconds=300
    )
    async with httpx.AsyncClient(timeout=2) as http:
        engine = AnomalyEngine(settings, http, CollectorRegistry(), clock)
        await engine.tick()  # connection refused: nothing evaluated
        assert engine.status().output.startswith("blind:")
        assert engine._blind_conditions() == []
        clock.advance(timedelta(seconds=200))  # past blind_after, inside the grace
        assert engine._blind_conditions() == []
        clock.advance(timedelta(seconds=101))
        assert [c.name for c in engine._blind_conditions()] == ["AnomalyEngineBlind"]
