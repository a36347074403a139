"""The engine against the real Prometheus and the real Alertmanager.

Prometheus starts with two days of seasonal history for two platforms (written with
``promtool tsdb create-blocks-from openmetrics``) and then scrapes a live exporter that
continues the same series. The tests run in order on one stack: no false alarms after the
replay; an incident on fanz-2 fires ``MetricAnomaly`` with the right labels; Alertmanager
down is survived and retried; a restarted engine sees the incident at once (no blind
period); the alert resolves when the data returns to normal; Prometheus down makes the
state unknown and posts nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry

from _waiting import async_wait_until
from fanzwatch.anomaly.engine import AnomalyEngine, EngineState, Episode
from fanzwatch.core import Severity, SystemClock
from fanzwatch.settings.anomaly import AnomalySettings

from .test_engine_stack import (
    DAY,
    SCRAPE_TIMEOUT,
    Exporter,
    Platform,
    Process,
    WebhookSink,
    alertmanager_process,
    create_blocks,
    free_port,
    prometheus_process,
    wait_for,
    write_history,
)

# One event loop for the module: the engines and their HTTP client live across the tests.
pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

STEP = 5.0
QUERY_DELAY = SCRAPE_TIMEOUT + 2.0  # a point is read once every scrape up to it is in, even a slow one
HISTORY = 2 * DAY
LEAD = 25.0  # must exceed history generation + promtool + Prometheus start


@dataclass
class Stack:
    platforms: list[Platform]
    prometheus: Process
    alertmanager: Process
    webhook: WebhookSink
    engines: dict[str, AnomalyEngine]
    registries: dict[str, CollectorRegistry]

    def settings(self) -> AnomalySettings:
        return AnomalySettings(
            prometheus_url=self.prometheus.url,
            alertmanager_url=self.alertmanager.url,
            step_seconds=STEP,
            interval_seconds=1,
            query_delay_seconds=QUERY_DELAY,
            rate_window_seconds=60,
            history_seconds=HISTORY - 60,
            fire_after_points=1,
            resolve_after_points=2,
            alert_resend_seconds=1,
            alert_ttl_seconds=30,
        )

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.alertmanager.url}/api/v2/alerts", timeout=5)
        response.raise_for_status()
        return [a for a in response.json() if a["labels"].get("alertname") == "MetricAnomaly"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work: Path = tmp_path_factory.mktemp("engine")
    platforms = [Platform("fanz-1", salt=1), Platform("fanz-2", salt=2, users=800.0)]
    exporter_port = free_port()
    webhook = WebhookSink()
    alertmanager = alertmanager_process(work, port=free_port(), webhook=webhook.url)
    with webhook.serving():
        try:
            alertmanager.start()  # first: it does not depend on the history
            # The history runs a little into the future: Prometheus refuses scraped samples
            # older than its newest block, so live samples continue exactly where the
            # history stops. (A gap would be real: rate() over a window with a hole dips.)
            history_end = time.time() + LEAD
            counters, last = write_history(
                work / "history.om",
                platforms,
                start=history_end - HISTORY,
                end=history_end,
                step=STEP,
                job_labels={"job": "fanz", "instance": f"127.0.0.1:{exporter_port}"},
            )
            create_blocks(work / "history.om", work / "tsdb")
            (work / "history.om").unlink()
            exporter = Exporter(platforms, counters, since=last, port=exporter_port)
            # scraped as often as the history is sampled, so live data looks like the history
            prometheus = prometheus_process(
                work, work / "tsdb", port=free_port(), scrape_target=f"127.0.0.1:{exporter_port}", scrape_interval=STEP
            )
            with exporter.serving():
                try:
                    prometheus.start()
                    live_from = history_end
                    if time.time() > history_end:  # a slow set-up left a gap: let rate() windows pass it
                        live_from = time.time() + 60
                    time.sleep(max(0.0, live_from + STEP - time.time()))  # live data has begun
                    yield Stack(platforms, prometheus, alertmanager, webhook, {}, {})
                finally:
                    prometheus.stop()
        finally:
            alertmanager.stop()


async def _engine(stack: Stack, name: str, http: httpx.AsyncClient) -> AnomalyEngine:
    registry = CollectorRegistry()
    engine = AnomalyEngine(stack.settings(), http, registry, SystemClock())
    stack.engines[name], stack.registries[name] = engine, registry
    return engine


def _alertable(engine: AnomalyEngine) -> list[Episode]:
    """Active episodes that reach Alertmanager (warning and above, the default)."""
    return [e for e in engine.anomalies()[0] if e.severity is not Severity.INFO]


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0)) as client:
        yield client


async def test_replay_rebuilds_state_and_raises_no_false_alarm(stack: Stack, http: httpx.AsyncClient) -> None:
    engine = await _engine(stack, "first", http)
    report = await engine.tick()
    # five signals with data (no latency buckets here) for two platforms, two days each
    assert report.failed_signals == []
    assert report.points > 10 * int((HISTORY - 60) / STEP) * 0.99
    keys = {(s.signal.key, s.platform) for s in engine.series()}
    assert keys == {
        (m, p)
        for m in ("request_rate", "error_ratio", "registrations", "payment_success_ratio", "active_users")
        for p in ("fanz-1", "fanz-2")
    }
    for state in engine.series():
        latest = state.window.latest()
        assert latest["lower"] is not None and latest["upper"] is not None, state.key  # warmed up
    active, _ = engine.anomalies()
    assert active == []
    assert stack.alerts() == []
    status = engine.status()
    assert status.status is EngineState.PASS
    assert status.output == "watching 10 series; 0 anomalies active"
    reg = stack.registries["first"]
    assert _sample(reg, "fanz_anomaly_engine_up") == 1.0
    assert _sample(reg, "fanz_anomaly_engine_state", state="pass") == 1.0
    assert _sample(reg, "fanz_anomaly_active", metric="active_users", platform="fanz-2") == 0.0
    lag = _sample(reg, "fanz_anomaly_lag_seconds", metric="active_users", platform="fanz-2")
    assert lag is not None and QUERY_DELAY <= lag < QUERY_DELAY + STEP + 5


async def test_incident_fires_metric_anomaly_with_the_right_labels(stack: Stack, http: httpx.AsyncClient) -> None:
    engine = stack.engines["first"]
    stack.platforms[1].incident = True

    async def fired() -> list[dict[str, Any]]:
        await engine.tick()
        return stack.alerts()

    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while not alerts:
        assert time.monotonic() < deadline, "no MetricAnomaly within 30 s of the incident"
        alerts = await fired()
        if not alerts:
            await asyncio.sleep(1)
    (alert,) = alerts
    labels = alert["labels"]
    severity = Severity(labels["severity"])
    assert labels == {
        "alertname": "MetricAnomaly",
        "metric": "active_users",
        "platform": "fanz-2",
        "severity": severity.value,
        "priority": severity.priority.value,
        "service": "fanzwatch-anomaly",
    }
    notes = alert["annotations"]
    actual = float(notes["actual_value"])
    lower, upper = float(notes["expected_lower"]), float(notes["expected_upper"])
    assert actual < lower < upper  # users fell to a fifth: below the range
    assert notes["expected_range"] == f"{notes['expected_lower']} - {notes['expected_upper']}"
    assert 0.5 <= float(notes["anomaly_score"]) <= 1.0
    assert notes["summary"].startswith("Active users on fanz-2 is anomalous: ")
    (episode,) = _alertable(stack.engines["first"])
    assert (episode.metric, episode.platform, episode.severity) == ("active_users", "fanz-2", severity)
    assert severity is not Severity.INFO  # info-level episodes are shown, never posted
    reg = stack.registries["first"]
    assert _sample(reg, "fanz_anomaly_active", metric="active_users", platform="fanz-2") == 1.0
    assert _sample(reg, "fanz_anomaly_active", metric="active_users", platform="fanz-1") == 0.0
    assert (_sample(reg, "fanz_anomaly_alerts_posted_total", state="firing") or 0) >= 1


async def test_alertmanager_down_is_counted_and_retried(stack: Stack) -> None:
    engine = stack.engines["first"]
    reg = stack.registries["first"]
    stack.alertmanager.stop()
    await asyncio.sleep(1.1)  # the re-send is due
    report = await engine.tick()
    assert report.post_error is not None and "did not take the alerts" in report.post_error
    assert _sample(reg, "fanz_anomaly_alert_post_failures_total") == 1.0
    status = engine.status()
    assert status.status is EngineState.WARN and status.output.startswith("Alertmanager at ")
    stack.alertmanager.start()
    assert stack.alerts() == []  # a restarted Alertmanager has forgotten the alert
    report = await engine.tick()
    assert report.post_error is None and report.posted >= 1
    assert [a["labels"]["platform"] for a in stack.alerts()] == ["fanz-2"]
    assert engine.status().status is EngineState.PASS


async def test_restarted_engine_sees_the_incident_at_once(stack: Stack, http: httpx.AsyncClient) -> None:
    engine = await _engine(stack, "second", http)
    report = await engine.tick()  # the first evaluation replays history, incident included
    assert report.failed_signals == [] and report.post_error is None and report.posted == 1
    (episode,) = _alertable(engine)
    assert (episode.metric, episode.platform) == ("active_users", "fanz-2")
    (first,) = _alertable(stack.engines["first"])
    assert episode.started_at == first.started_at  # the same incident, not a new one after a warm-up
    for state in engine.series():
        assert state.window.latest()["lower"] is not None, state.key
    assert [a["labels"]["metric"] for a in stack.alerts()] == ["active_users"]


async def test_alert_resolves_when_data_returns_to_normal(stack: Stack) -> None:
    engine = stack.engines["second"]
    stack.platforms[1].incident = False
    stack.webhook.received.clear()
    deadline = time.monotonic() + 60
    while _alertable(engine):
        assert time.monotonic() < deadline, "the anomaly did not end within 60 s of recovery"
        await asyncio.sleep(1)
        await engine.tick()
    (ended,) = [e for e in engine.anomalies()[1] if e.platform == "fanz-2" and e.metric == "active_users"][:1]
    assert (ended.metric, ended.platform, ended.end_reason) == ("active_users", "fanz-2", "back in the expected range")
    assert ended.ended_at is not None and ended.ended_at > ended.started_at
    assert stack.alerts() == []  # endsAt = now: Alertmanager shows it no more
    resolved = wait_for(
        "the resolved notification",
        lambda: [n for n in stack.webhook.received if n["status"] == "resolved"],
        timeout=15,
    )
    assert resolved[0]["alerts"][0]["labels"]["platform"] == "fanz-2"
    assert _sample(stack.registries["second"], "fanz_anomaly_active", metric="active_users", platform="fanz-2") == 0.0


class OffsetClock:
    """The real clock, ``offset`` seconds off (a server whose clock is wrong)."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.mark.parametrize("offset", [300.0, -300.0])
async def test_clock_skew_either_way_never_stops_evaluation_nor_skips_a_point(
    stack: Stack, http: httpx.AsyncClient, offset: float
) -> None:
    settings = stack.settings().model_copy(update={"history_seconds": 120.0})
    registry = CollectorRegistry()
    engine = AnomalyEngine(settings, http, registry, OffsetClock(offset))
    await engine.tick()
    first = {s.key: s.last_timestamp for s in engine.series()}
    assert first, "the engine read nothing"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until every series has moved on by 3 grid points
        await asyncio.sleep(1.0)
        await engine.tick()
        if all(s.last_timestamp >= first[s.key] + 3 * STEP for s in engine.series()):
            break
    else:
        raise AssertionError(f"evaluation stopped with the clock {offset:+.0f} s off")
    prom_now = time.time()
    for state in engine.series():
        ts = state.window.timestamps
        assert np.all(np.diff(ts) == STEP), f"{state.key}: a grid point was skipped"
        assert ts[-1] <= prom_now, f"{state.key}: evaluated a point Prometheus cannot have yet"
    assert _sample(registry, "fanz_anomaly_clock_offset_seconds") == pytest.approx(offset, abs=5)
    assert engine.status().status is EngineState.PASS


async def test_prometheus_down_means_unknown_and_no_alerts(stack: Stack) -> None:
    engine = stack.engines["second"]
    reg = stack.registries["second"]
    before = {s.key: s.last_timestamp for s in engine.series()}
    stack.webhook.received.clear()
    stack.prometheus.stop()
    await asyncio.sleep(STEP)  # a new grid point is due
    report = await engine.tick()
    assert sorted(report.failed_signals) == sorted(s.key for s in engine.signals)
    status = engine.status()
    assert status.status is EngineState.UNKNOWN
    assert status.output.startswith(
        f"blind: anomaly state unknown: Prometheus at {stack.prometheus.url} is unavailable"
    )
    assert _sample(reg, "fanz_anomaly_engine_up") == 0.0
    assert _sample(reg, "fanz_anomaly_engine_state", state="unknown") == 1.0
    assert (_sample(reg, "fanz_anomaly_query_failures_total", metric="active_users") or 0) >= 1
    # no data is not a drop to zero: nothing was scored, nothing fired, nothing posted
    assert {s.key: s.last_timestamp for s in engine.series()} == before
    assert _alertable(engine) == []
    assert report.posted == 0
    assert stack.alerts() == []
    # back: the missed range is read, the state is known again, still no false alarm
    stack.prometheus.start()
    report = await engine.tick()
    assert report.failed_signals == []
    assert report.points > 0, report
    assert engine.status().status is EngineState.PASS, engine.status()
    assert _alertable(engine) == []
    assert stack.alerts() == []
    assert [n["alerts"] for n in stack.webhook.received if n["status"] == "firing"] == []


async def test_prometheus_unreachable_posts_the_blind_meta_alert_and_resolves_it(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    settings = stack.settings().model_copy(update={"blind_after_seconds": 0.0, "history_seconds": 120.0})
    engine = AnomalyEngine(settings, http, CollectorRegistry(), SystemClock())
    await engine.tick()
    assert engine.status().status is EngineState.PASS
    stack.prometheus.stop()
    try:
        report = await engine.tick()
        assert report.post_error is None
        blind = wait_for(
            "AnomalyEngineBlind in Alertmanager",
            lambda: [a for a in _all_alerts(stack) if a["labels"]["alertname"] == "AnomalyEngineBlind"],
            timeout=15,
        )
        assert blind[0]["labels"] == {
            "alertname": "AnomalyEngineBlind",
            "severity": "warning",
            "priority": "P1",
            "service": "fanzwatch-anomaly",
        }
        assert stack.prometheus.url in blind[0]["annotations"]["description"]
        assert engine.blind_alerts == ["AnomalyEngineBlind"]
    finally:
        stack.prometheus.start()
    await engine.tick()
    assert engine.status().status is EngineState.PASS
    wait_for(
        "AnomalyEngineBlind resolved",
        lambda: not [a for a in _all_alerts(stack) if a["labels"]["alertname"] == "AnomalyEngineBlind"],
        timeout=15,
    )


async def test_silent_series_raises_the_stale_meta_alert(stack: Stack, http: httpx.AsyncClient) -> None:
    # A 20 s rate window (four scrapes) instead of the module's 60 s: a vanished counter's rate()
    # outlives the series by its window, and this test waits for that, not for the window.
    settings = stack.settings().model_copy(
        update={"history_seconds": 120.0, "stale_after_seconds": 3 * STEP, "rate_window_seconds": 4 * int(STEP)}
    )
    registry = CollectorRegistry()
    engine = AnomalyEngine(settings, http, registry, SystemClock())
    await engine.tick()
    # Prometheus marks a vanished series stale only when the scrape before knew it; a restarted
    # Prometheus (the test before) knows nothing until its first scrape. Without that scrape
    # the gauge would keep answering for the 5 minute lookback.
    await _wait_for_a_scrape_after(stack, http, time.time())
    gone = stack.platforms.pop(0)  # fanz-1 stops exporting (the exporter serves this very list)
    try:

        async def stale() -> set[tuple[str, str]]:
            await engine.tick()
            alerts = [a for a in _all_alerts(stack) if a["labels"]["alertname"] == "AnomalySeriesStale"]
            return {(a["labels"]["metric"], a["labels"]["platform"]) for a in alerts}

        # the gauge is stale after 15 s; rate() keeps a vanished counter for its window (20 s), then 15 s
        signals = {(m, "fanz-1") for m in ("request_rate", "error_ratio", "registrations", "payment_success_ratio")}
        signals.add(("active_users", "fanz-1"))
        seen = await async_wait_until(
            stale, until=signals.issubset, timeout=180, message=f"no stale alert for each of {sorted(signals)}"
        )
        assert seen == signals
        assert _sample(registry, "fanz_anomaly_series_stale", metric="active_users", platform="fanz-1") == 1.0
        assert _sample(registry, "fanz_anomaly_series_stale", metric="request_rate", platform="fanz-1") == 1.0
        assert _sample(registry, "fanz_anomaly_series_stale", metric="active_users", platform="fanz-2") == 0.0
        assert "5 without data" in engine.status().output
        assert {st.key for st in engine.series() if st.stale} == signals
    finally:
        stack.platforms.insert(0, gone)


async def _wait_for_a_scrape_after(stack: Stack, http: httpx.AsyncClient, instant: float) -> None:
    async def scraped() -> bool:
        response = await http.get(f"{stack.prometheus.url}/api/v1/query", params={"query": 'timestamp(up{job="fanz"})'})
        result = response.json()["data"]["result"]
        return bool(result) and float(result[0]["value"][1]) > instant

    await async_wait_until(scraped, timeout=60, message="Prometheus did not scrape the exporter", interval=0.5)


def _all_alerts(stack: Stack) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.alertmanager.url}/api/v2/alerts", params={"active": "true"}, timeout=5)
    response.raise_for_status()
    return [a for a in response.json() if a["status"]["state"] == "active"]


async def test_points_of_the_warm_up_are_neither_judged_nor_learnt(stack: Stack, http: httpx.AsyncClient) -> None:
    """``warmup_seconds``: a stack whose services start with the engine refills its rates first."""
    warmup = 4 * STEP
    settings = stack.settings().model_copy(update={"warmup_seconds": warmup, "history_seconds": 600.0})
    engine = AnomalyEngine(settings, http, CollectorRegistry(), SystemClock())
    started = time.time()
    await engine.tick()
    assert "warming up: points before" in engine.status().output
    await asyncio.sleep(max(0.0, started + warmup + QUERY_DELAY + 2 * STEP - time.time()))
    await engine.tick()
    assert "warming up" not in engine.status().output
    offset = engine.data_offset
    for state in engine.series():
        ts = state.window.timestamps
        assert ts.size and ts[0] < started - offset, state.key  # the history before the start is learnt
        in_warmup = ts[(ts >= started - offset + 1) & (ts < engine.warmup_until - offset)]
        assert in_warmup.size == 0, (state.key, in_warmup)
        assert ts[-1] >= engine.warmup_until - offset, state.key  # and the points after it are judged
