"""The streaming anomaly engine: Prometheus in, detector state in memory, Alertmanager out.

Each evaluation (``tick``) reads, per watched signal, the points since the last one
through ``query_range`` on the fixed grid ``k * step``; a signal never read before gets
the last ``history_seconds`` instead, in chunks, so state is rebuilt from Prometheus at
start-up and a restart does not go blind. Scoring runs in a worker thread. Then episodes
are reconciled with Alertmanager (see ``outbox``) and the engine's metrics are set.

When Prometheus cannot be read, the cursor does not move: nothing is scored (no data is
not a drop to zero), nothing is fired or re-sent, the status is ``unknown``, and the
missed range is read when Prometheus is back.

>>> engine = AnomalyEngine(AnomalySettings(), http, registry, SystemClock())  # doctest: +SKIP
>>> await engine.start(); ...; await engine.stop()                           # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import anyio.to_thread
import httpx
from prometheus_client import CollectorRegistry

from ...core.clock import Clock
from ...core.platforms import OTHER_PLATFORM
from ...settings.anomaly import AnomalySettings
from .alertmanager import AlertmanagerClient, AlertmanagerError, iso_time
from .episodes import Episode
from .meta import ENGINE_BLIND, SERIES_STALE, BlindCondition, MetaOutbox
from .metrics import SERIES_STATES, EngineMetrics
from .outbox import AlertOutbox
from .prometheus import PrometheusClient, PrometheusQueryError, PrometheusUnavailableError, RangeSeries
from .series import DetectorFactory, SeriesKey, SeriesState
from .watchlist import WatchedSignal, build_watchlist

logger = logging.getLogger(__name__)


class EngineState(StrEnum):
    """Health of the engine, as a health check reports it (plus ``unknown``)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class EngineStatus:
    status: EngineState
    output: str
    observed_at: datetime
    details: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class TickReport:
    """What one evaluation did (for tests and logs)."""

    end: float
    points: int = 0
    failed_signals: list[str] = field(default_factory=list)
    posted: int = 0
    post_error: str | None = None


@dataclass(slots=True)
class _Absorbed:
    """What scoring one signal's answer produced, merged on the event loop."""

    new: list[SeriesState] = field(default_factory=list)
    ended: list[Episode] = field(default_factory=list)
    points: int = 0


def default_detector_factory(name: str) -> DetectorFactory:
    """Detectors by name from ``fanzwatch.anomaly.detectors``."""
    from ..detectors import make_detector

    make_detector(name)  # fail now, not at the first series, on an unknown name
    return lambda: make_detector(name)


class AnomalyEngine:
    """Watches the guide's six signals per platform and alerts on anomalies."""

    def __init__(
        self,
        settings: AnomalySettings,
        http: httpx.AsyncClient,
        registry: CollectorRegistry,
        clock: Clock,
        detector_factory: DetectorFactory | None = None,
        *,
        watchlist: tuple[WatchedSignal, ...] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.prometheus = PrometheusClient(settings.prometheus_url, http)
        self._alertmanager = (
            AlertmanagerClient(settings.alertmanager_url, http, generator_url=settings.generator_url)
            if settings.alertmanager_url
            else None
        )
        self.signals = watchlist or build_watchlist(rate_window_seconds=settings.rate_window_seconds)
        self._factory = detector_factory or default_detector_factory(settings.detector)
        self.metrics = EngineMetrics(registry)
        self._series: dict[SeriesKey, SeriesState] = {}
        self._cursor: dict[str, float] = {}
        self._recent: deque[Episode] = deque(maxlen=settings.recent_anomalies)
        self._outbox = AlertOutbox(
            resend_seconds=settings.alert_resend_seconds,
            ttl_seconds=settings.alert_ttl_seconds,
            min_severity=settings.alert_min_severity,
        )
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._last_ok: float | None = None
        self._unreachable = False
        self._query_errors: dict[str, str] = {}
        self._post_error: str | None = None
        self._crash: str | None = None
        self._ticks = 0
        self._meta = MetaOutbox(resend_seconds=settings.alert_resend_seconds, ttl_seconds=settings.alert_ttl_seconds)
        self._blind_since: float | None = None
        self._blind_reason: str | None = None
        self._idle: frozenset[str] = frozenset()
        self.data_offset = 0.0
        """The engine's clock minus Prometheus's (seconds), as of the last evaluation."""
        self._started_wall = clock.now().timestamp()
        self.warmup_until = self._started_wall + settings.warmup_seconds
        """Points before this (engine clock, seconds) are neither judged nor learnt (``warmup_seconds``)."""

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Run evaluations in a background task; the first one rebuilds state from history."""
        if self._task is None or self._task.done():
            self._crash = None
            self._task = asyncio.create_task(self._run(), name="fanzwatch-anomaly-engine")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while True:
            began = self.clock.monotonic()
            try:
                await self.tick()
                self._crash = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive any one bad evaluation
                logger.exception("anomaly evaluation failed")
                self._crash = f"{type(exc).__name__}: {exc}"
                self.metrics.set_state(EngineState.FAIL)
            elapsed = self.clock.monotonic() - began
            await asyncio.sleep(max(0.0, self.settings.interval_seconds - elapsed))

    # -- one evaluation ---------------------------------------------------------------

    async def tick(self) -> TickReport:
        """Read new points, score them, reconcile alerts, set metrics. Never raises for I/O."""
        async with self._lock:
            return await self._tick()

    async def _tick(self) -> TickReport:
        s = self.settings
        now = self.clock.now()
        step = s.step_seconds
        try:
            # The grid follows Prometheus's clock: a skewed local clock neither asks for
            # points that do not exist yet nor moves past points it never read.
            data_now = await self.prometheus.server_time()
        except PrometheusUnavailableError as exc:
            return await self._blind_tick(now, str(exc))
        self.data_offset = now.timestamp() - data_now
        end = math.floor((data_now - s.query_delay_seconds) / step) * step
        report = TickReport(end=end)
        earliest = end - math.floor(s.history_seconds / step) * step
        attempted = 0
        unavailable = 0
        for signal in self.signals:
            cursor = self._cursor.get(signal.key)
            start = earliest if cursor is None else max(cursor + step, earliest)
            if start > end:  # nothing new on the grid yet: nothing to read, nothing unknown
                self._query_errors.pop(signal.key, None)
                continue
            attempted += 1
            try:
                answer = await self.prometheus.query_range_chunked(
                    signal.expr, start, end, step, max_points=s.max_points_per_query
                )
            except (PrometheusUnavailableError, PrometheusQueryError) as exc:
                unavailable += isinstance(exc, PrometheusUnavailableError)
                self.metrics.query_failures.labels(metric=signal.key).inc()
                self._query_errors[signal.key] = str(exc)
                report.failed_signals.append(signal.key)
                logger.warning("anomaly query failed", extra={"signal": signal.key, "error": str(exc)})
                continue
            self._query_errors.pop(signal.key, None)
            report.points += self._merge(await anyio.to_thread.run_sync(self._absorb, signal, answer))
            # The cursor moves only over points Prometheus returned: to the oldest "newest
            # point" of the series that answered (a lagging series is read again, its old
            # points ignored), or to ``end`` when no series had any point in the range.
            newest = [float(r.timestamps[-1]) for r in answer if r.timestamps.size]
            self._cursor[signal.key] = min(newest) if newest else end
        self._unreachable = attempted > 0 and unavailable == attempted
        if attempted == 0 or len(report.failed_signals) < attempted:
            self._last_ok = self.clock.monotonic()
            self.metrics.last_evaluation.set(now.timestamp())
        self._blind_reason = None if not self._unreachable else next(iter(self._query_errors.values()), None)
        self._expire(data_now, data_known=not report.failed_signals)
        self._idle = self._idle_platforms(data_now)
        # alert times are taken after the (possibly long) replay, so endsAt is truly ahead
        await self._post(report, now=self.clock.now(), unknown=frozenset(report.failed_signals))
        self._ticks += 1
        self._publish(data_now)
        return report

    async def _blind_tick(self, now: datetime, reason: str) -> TickReport:
        """Prometheus cannot be read at all: move nothing, judge nothing, say so."""
        report = TickReport(end=math.nan, failed_signals=[sig.key for sig in self.signals])
        for signal in self.signals:
            self.metrics.query_failures.labels(metric=signal.key).inc()
            self._query_errors[signal.key] = reason
        self._unreachable = True
        self._blind_reason = reason
        logger.warning("anomaly engine cannot read Prometheus", extra={"error": reason})
        await self._post(report, now=self.clock.now(), unknown=frozenset(report.failed_signals))
        self._ticks += 1
        self._publish(now.timestamp() - self.data_offset)
        return report

    def _absorb(self, signal: WatchedSignal, answer: list[RangeSeries]) -> _Absorbed:
        """Worker thread: feed each platform's new points to its series state.

        Shared collections (the series map, the recent episodes) are only changed back on
        the event loop (``_merge``), so API readers never see them change mid-iteration.
        """
        out = _Absorbed()
        known = sum(1 for k in self._series if k[0] == signal.key)
        for series in answer:
            platform = series.labels.get("platform") or OTHER_PLATFORM
            state = self._series.get((signal.key, platform))
            if state is None:
                if known + len(out.new) >= self.settings.max_series_per_signal:
                    logger.warning("too many series for one signal", extra={"signal": signal.key})
                    continue
                state = SeriesState(
                    signal,
                    platform,
                    self._factory(),
                    fire_after=self.settings.fire_after_points,
                    resolve_after=self.settings.resolve_after_points,
                    capacity=self.settings.window_points,
                )
                out.new.append(state)
            timestamps, values = series.timestamps, series.values
            if self.settings.warmup_seconds:
                # In the warm-up the watched services refill their windows: a ramp, not a signal.
                warm = (timestamps < self._started_wall - self.data_offset) | (
                    timestamps >= self.warmup_until - self.data_offset
                )
                timestamps, values = timestamps[warm], values[warm]
            out.ended.extend(state.absorb(timestamps, values))
            out.points += int(timestamps.size)
        return out

    def _merge(self, absorbed: _Absorbed) -> int:
        for state in absorbed.new:
            self._series[state.key] = state
        self._recent.extend(absorbed.ended)
        return absorbed.points

    def _expire(self, now: float, *, data_known: bool) -> None:
        """Series without data for ``stale_after`` end their episode; later they are dropped.

        Only judged when Prometheus answered: while it is down every series lacks data.
        """
        if not data_known:
            return
        for key, state in list(self._series.items()):
            silent = now - state.last_timestamp
            if silent > self.settings.forget_after_seconds:
                if state.episodes.current is not None:
                    self._recent.append(state.episodes.end(now, "series disappeared"))
                del self._series[key]
                self.metrics.forget_series(key, gone=True)
            elif silent > self.settings.stale_after_seconds and not state.stale:
                state.stale = True
                if state.episodes.current is not None:
                    self._recent.append(state.episodes.end(now, "no data"))
                self.metrics.forget_series(key)

    def _idle_platforms(self, now: float) -> frozenset[str]:
        """Platforms whose traffic signal (the first signal) never had, or lost a while ago, any traffic."""
        traffic = self.signals[0].key
        idle_after = self.settings.idle_after_seconds
        busy = {p for (key, p), st in self._series.items() if key == traffic and now - st.last_active <= idle_after}
        return frozenset(p for _, p in self._series if p not in busy)

    def _blind_conditions(self) -> list[BlindCondition]:
        """What the engine cannot see now: itself (state unknown) and each stale series."""
        out: list[BlindCondition] = []
        wall = self.clock.now().timestamp()
        if self._unreachable or self._last_ok is None:
            if self._blind_since is None:
                self._blind_since = wall
            after = self.settings.blind_after_seconds
            if self._last_ok is None:  # never evaluated yet: the stack may still be booting
                after = max(after, self.settings.startup_grace_seconds)
            if wall - self._blind_since >= after:
                reason = self._blind_reason or "no evaluation yet"
                out.append(
                    BlindCondition(
                        ENGINE_BLIND,
                        (),
                        self._blind_since,
                        "Anomaly detection is blind: it cannot read Prometheus",
                        f"The anomaly engine has not been able to read {self.settings.prometheus_url} since "
                        f"{iso_time(datetime.fromtimestamp(self._blind_since, UTC))}: {reason}. No anomaly can be "
                        "detected, raised or resolved until it can; firing anomaly alerts expire by themselves.",
                    )
                )
        else:
            self._blind_since = None
        for st in self._series.values():
            if st.stale and st.platform not in self._idle:
                out.append(
                    BlindCondition(
                        SERIES_STALE,
                        (("metric", st.signal.key), ("platform", st.platform)),
                        st.last_timestamp + self.settings.stale_after_seconds,
                        f"{st.signal.title} on {st.platform} has no data: anomaly detection cannot watch it",
                        f"Prometheus has returned no point of {st.signal.key} for {st.platform} since "
                        f"{iso_time(datetime.fromtimestamp(st.last_timestamp, UTC))}. Is the platform scraped? "
                        f"(query: {st.signal.expr})",
                    )
                )
        return out

    async def _post(self, report: TickReport, *, now: datetime, unknown: frozenset[str]) -> None:
        if self._alertmanager is None:
            return
        watched = [st for st in self._series.values() if st.platform not in self._idle]
        monotonic = self.clock.monotonic()
        plan = self._outbox.plan(watched, now=now, monotonic=monotonic, unknown=unknown)
        meta = self._meta.plan(self._blind_conditions(), now=now, monotonic=monotonic)
        if not plan.alerts and not meta:
            self._post_error = None
            return
        try:
            await self._alertmanager.post([*plan.alerts, *meta])
        except AlertmanagerError as exc:
            self.metrics.post_failures.inc()
            self._post_error = report.post_error = str(exc)
            logger.warning("posting anomalies failed; retrying next evaluation", extra={"error": str(exc)})
            return
        self._outbox.accepted(plan)
        self._meta.accepted()
        self._post_error = None
        report.posted = len(plan.alerts) + len(meta)
        if plan.firing:
            self.metrics.posted.labels(state="firing").inc(plan.firing)
        if plan.resolved:
            self.metrics.posted.labels(state="resolved").inc(plan.resolved)

    def _publish(self, now: float) -> None:
        counts = dict.fromkeys(SERIES_STATES, 0)
        for state in self._series.values():
            kind = self.series_state(state)
            counts[kind] += 1
            self.metrics.stale.labels(metric=state.signal.key, platform=state.platform).set(float(state.stale))
            if not state.stale:
                self.metrics.observe_series(state, now)
        self.metrics.set_series_counts(counts)
        self.metrics.clock_offset.set(self.data_offset)
        self.metrics.set_state(self.status().status)

    # -- what the API reads -----------------------------------------------------------

    def series_state(self, state: SeriesState) -> str:
        """``stale``, ``idle`` (platform without traffic), ``learning`` or ``watching``."""
        if state.stale:
            return "stale"
        if state.platform in self._idle:
            return "idle"
        return "learning" if state.progress().learning else "watching"

    @property
    def idle_platforms(self) -> frozenset[str]:
        return self._idle

    @property
    def blind_alerts(self) -> list[str]:
        """Meta-alerts Alertmanager currently holds from this engine (names)."""
        return [a.name for a in self._meta.firing]

    def status(self) -> EngineStatus:
        """pass / warn / fail / unknown, with a sentence saying why (for health checks)."""
        now = self.clock.now()
        counts = dict.fromkeys(SERIES_STATES, 0)
        for st in self._series.values():
            counts[self.series_state(st)] += 1
        details: dict[str, object] = {
            "prometheus": self.settings.prometheus_url,
            "series": counts["watching"] + counts["learning"],
            **{f"series_{k}": v for k, v in counts.items()},
            "idle_platforms": sorted(self._idle),
            "active_anomalies": self.active_count(),
            "evaluations": self._ticks,
            "clock_offset_seconds": round(self.data_offset, 3),
            "unreadable": sorted(self._query_errors),  # queries failing now: partly blind when not all
        }
        if self._crash is not None:
            return EngineStatus(EngineState.FAIL, f"blind: evaluation failed: {self._crash}", now, details)
        if self._unreachable or self._last_ok is None:
            reason = next(iter(self._query_errors.values()), "no evaluation yet")
            return EngineStatus(EngineState.UNKNOWN, f"blind: anomaly state unknown: {reason}", now, details)
        too_old = 3 * max(self.settings.interval_seconds, self.settings.step_seconds)
        if self.clock.monotonic() - self._last_ok > too_old:
            reason = next(iter(self._query_errors.values()), "no recent evaluation")
            return EngineStatus(EngineState.UNKNOWN, f"blind: anomaly state unknown: {reason}", now, details)
        if self._query_errors:
            failed = ", ".join(sorted(self._query_errors))
            return EngineStatus(EngineState.WARN, f"partly blind: cannot read {failed}", now, details)
        if self._post_error:
            return EngineStatus(EngineState.WARN, self._post_error, now, details)
        parts = [f"watching {counts['watching']} series"]
        if now.timestamp() < self.warmup_until:
            warm = datetime.fromtimestamp(self.warmup_until, UTC).strftime("%H:%M:%S UTC")
            parts.append(f"warming up: points before {warm} are not judged")
        if counts["learning"]:
            parts.append(f"{counts['learning']} still learning")
        if counts["stale"]:
            parts.append(f"{counts['stale']} without data")
        if self._idle:
            parts.append(f"{len(self._idle)} platforms without traffic not watched")
        parts.append(f"{details['active_anomalies']} anomalies active")
        return EngineStatus(EngineState.PASS, "; ".join(parts), now, details)

    def active_count(self) -> int:
        return sum(1 for st in self._series.values() if st.episodes.current is not None)

    def anomalies(
        self, *, metric: str | None = None, platform: str | None = None
    ) -> tuple[list[Episode], list[Episode]]:
        """(active episodes, ended ones newest first), optionally for one metric/platform."""

        def wanted(e: Episode) -> bool:
            return (metric is None or e.metric == metric) and (platform is None or e.platform == platform)

        active = [st.episodes.current for st in self._series.values() if st.episodes.current is not None]
        return [e for e in active if wanted(e)], [e for e in reversed(self._recent) if wanted(e)]

    def series(self, *, metric: str | None = None, platform: str | None = None) -> list[SeriesState]:
        return [
            st
            for (m, p), st in sorted(self._series.items())
            if (metric is None or m == metric) and (platform is None or p == platform)
        ]
