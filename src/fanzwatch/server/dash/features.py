"""Sources over the server's own features, called in process through their public APIs.

- ``RunnerHealthSource``: the ``HealthCheckRunner`` (cached results) and a ``HealthHistory``;
- ``StoreRumSource``: the RUM event store (p75 per page, top errors);
- ``EngineAnomalySource``: the running ``AnomalyEngine`` (bands, episodes) and its
  insights and forecasts over Prometheus;
- ``ServiceBiSource``: the ``BiService`` (reports run in a worker thread).

Each turns its feature's failures into ``SourceError`` with a sentence saying what to do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from ...anomaly.engine import (
    AnalysisError,
    AnomalyEngine,
    NoDataError,
    PrometheusQueryError,
    PrometheusUnavailableError,
    fetch_metric,
    forecast_report,
    insights_report,
)
from ...anomaly.engine.series import SeriesState
from ...bi.models import BiReport
from ...bi.service import BiService
from ...core.errors import ConfigError
from ...health import HealthCheckRunner, HealthReport
from ...rum.store import ErrorSummary, RumEventStore, VitalP75
from .errors import SourceRejectedError, SourceUnavailableError
from .history import HealthHistory
from .sources import Analysis, AnomalySeries, EngineView, HealthPoint, Series

HISTORY_SHOWN = 86400.0  # seconds of history drawn before a forecast


class RunnerHealthSource:
    """Health from ``runner``; each report read is also recorded in ``history``."""

    def __init__(self, runner: HealthCheckRunner, history: HealthHistory) -> None:
        self.runner = runner
        self._history = history

    async def report(self) -> HealthReport:
        report = await self.runner.health()
        self._history.record(report)
        return report

    def history(self, name: str) -> list[HealthPoint]:
        return self._history.history(name)


class StoreRumSource:
    """RUM figures from the event store the RUM ingestor writes."""

    def __init__(self, store: RumEventStore) -> None:
        self.store = store

    async def vitals(self, *, since: datetime, platform: str | None) -> list[VitalP75]:
        try:
            return await self.store.vitals_p75(since=since, platform=platform)
        except (SQLAlchemyError, OSError) as exc:
            raise _store_down(exc) from None

    async def errors(self, *, since: datetime, platform: str | None, limit: int) -> list[ErrorSummary]:
        try:
            return await self.store.top_errors(since=since, platform=platform, limit=limit)
        except (SQLAlchemyError, OSError) as exc:
            raise _store_down(exc) from None


def _store_down(exc: Exception) -> SourceUnavailableError:
    return SourceUnavailableError(
        "RUM",
        f"the RUM event store could not be read ({type(exc).__name__}) — check the server's store "
        "(FANZWATCH_STORE_URL) and the server log",
    )


class EngineAnomalySource:
    """The anomaly engine, found through ``get_engine`` (it starts in the lifespan)."""

    def __init__(self, get_engine: Callable[[], AnomalyEngine | None]) -> None:
        self._get_engine = get_engine

    def _engine(self) -> AnomalyEngine:
        engine = self._get_engine()
        if engine is None:
            raise SourceUnavailableError(
                "anomalies",
                "the anomaly engine is not running in this server — set FANZWATCH_ANOMALY_ENABLED=true and "
                "point FANZWATCH_ANOMALY_PROMETHEUS_URL at Prometheus",
            )
        return engine

    def status(self) -> EngineView:
        status = self._engine().status()
        details = status.details
        return EngineView(
            status=status.status.value,
            output=status.output,
            blind=status.status.value in ("unknown", "fail"),
            unreadable=tuple(details.get("unreadable", ())),  # type: ignore[arg-type]
            learning=int(details.get("series_learning", 0)),  # type: ignore[call-overload]
            watching=int(details.get("series_watching", 0)),  # type: ignore[call-overload]
            idle_platforms=tuple(details.get("idle_platforms", ())),  # type: ignore[arg-type]
        )

    def series(self, *, metric: str | None, platform: str | None, points: int) -> list[AnomalySeries]:
        engine = self._engine()

        def learning(st: SeriesState) -> tuple[int, int] | None:
            progress = st.progress()
            return (progress.seen, progress.needed) if progress.learning else None

        return [
            AnomalySeries(
                metric=st.signal.key,
                title=st.signal.title,
                unit=st.signal.unit,
                platform=st.platform,
                alert_on=st.signal.alert_on,
                stale=st.stale,
                active=st.episodes.current is not None,
                points=st.window.points(points),
                state=engine.series_state(st),
                learning=learning(st),
            )
            for st in engine.series(metric=metric, platform=platform)
        ]

    def episodes(self, *, platform: str | None) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        active, recent = self._engine().anomalies(platform=platform)
        return [e.as_dict() for e in active], [e.as_dict() for e in recent]

    async def analysis(self, metric: str, *, platform: str | None, days: float, hours: float) -> Analysis:
        engine = self._engine()
        try:
            data = await fetch_metric(
                engine.prometheus,
                metric,
                end=engine.clock.now().timestamp(),
                days=days,
                platform=platform,
                rate_window_seconds=engine.settings.rate_window_seconds,
                max_points=engine.settings.max_points_per_query,
            )
        except NoDataError as exc:
            raise SourceUnavailableError("anomalies", f"{exc} — is anything scraping the platforms?") from None
        except (AnalysisError, PrometheusQueryError) as exc:
            raise SourceRejectedError("anomalies", str(exc)) from None
        except PrometheusUnavailableError as exc:
            raise SourceUnavailableError("anomalies", f"{exc} — is `fanzwatch up` running?") from None

        def run() -> Analysis:
            recent = [(d, d.timestamps >= d.timestamps[-1] - HISTORY_SHOWN) for d in data]
            return Analysis(
                insights=[insights_report(d) for d in data],
                forecasts=[forecast_report(d, hours=hours, max_points=120) for d in data],
                history=[
                    Series(
                        {**d.labels, "name": d.name},
                        d.timestamps[keep].tolist(),
                        [None if math.isnan(v) else v for v in d.values[keep].tolist()],
                    )
                    for d, keep in recent
                ],
            )

        try:
            return await anyio.to_thread.run_sync(run)
        except ValueError as exc:
            raise SourceRejectedError("anomalies", f"no forecast: {exc}") from None


class ServiceBiSource:
    """BI reports from ``service`` (blocking SQL, so in a worker thread)."""

    def __init__(self, service: BiService) -> None:
        self.service = service

    @property
    def platforms(self) -> tuple[str, ...]:
        return self.service.platforms

    async def report(self, window: str, *, platform: str | None) -> BiReport:
        try:
            return await anyio.to_thread.run_sync(lambda: self.service.report(window, platform=platform))
        except ConfigError as exc:
            raise SourceRejectedError("BI", str(exc)) from None
        except (SQLAlchemyError, OSError) as exc:
            raise SourceUnavailableError(
                "BI",
                f"the platform database could not be read ({type(exc).__name__}) — check FANZWATCH_BI_DATABASE_URL "
                "and that the database is up",
            ) from None
