"""``build_dash_sources``: the real sources from what the server already runs.

Called in the server's lifespan, once the shared HTTP client and the features exist;
any feature the server runs without is passed as ``None`` and its pages say so.

>>> app.state.dash_sources = build_dash_sources(                # doctest: +SKIP
...     http, dash_settings, health_runner=runner, health_history=history,
...     rum_store=RumEventStore(engine), get_anomaly_engine=lambda: app.state.anomaly_engine,
...     bi_service=bi, get_alerting=lambda: app.state.alerting, scrub_rules=settings.scrub)
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ...alerting import AlertingService
from ...anomaly.engine import AnomalyEngine
from ...bi.service import BiService
from ...core.scrubbing import ScrubRules
from ...health import HealthCheckRunner
from ...rum.store import RumEventStore
from ...settings.dash import DashSettings
from ...telemetry.reader import TelemetryReader
from .alertmanager import HttpAlertmanager
from .features import (
    EngineAnomalySource,
    RunnerHealthSource,
    ServiceBiSource,
    StoreRumSource,
)
from .history import HealthHistory
from .incidents import AlertingIncidentSource
from .prometheus import HttpPrometheus
from .sources import DashSources, IncidentSource
from .telemetry_source import ReaderTelemetrySource


def build_dash_sources(
    http: httpx.AsyncClient,
    settings: DashSettings,
    *,
    health_runner: HealthCheckRunner | None = None,
    health_history: HealthHistory | None = None,
    rum_store: RumEventStore | None = None,
    get_anomaly_engine: Callable[[], AnomalyEngine | None] | None = None,
    bi_service: BiService | None = None,
    get_alerting: Callable[[], AlertingService | None] | None = None,
    scrub_rules: ScrubRules | None = None,
    incidents: IncidentSource | None = None,
    get_telemetry: Callable[[], TelemetryReader | None] | None = None,
) -> DashSources:
    """Every source FanzDash can read, over the server's shared ``http`` client.

    ``get_alerting`` finds the running ``AlertingService`` (incidents are read and worked
    through it); ``scrub_rules`` clean the notes people write on incidents.
    """
    timeout = settings.query_timeout_seconds
    health = None
    if health_runner is not None:
        history = health_history or HealthHistory(
            health_runner, points=settings.health_history_points, interval=settings.health_history_interval_seconds
        )
        health = RunnerHealthSource(health_runner, history)
    return DashSources(
        prometheus=HttpPrometheus(http, settings.prometheus_url, timeout=timeout) if settings.prometheus_url else None,
        alertmanager=(
            HttpAlertmanager(http, settings.alertmanager_url, timeout=timeout) if settings.alertmanager_url else None
        ),
        health=health,
        rum=StoreRumSource(rum_store) if rum_store is not None else None,
        anomalies=EngineAnomalySource(get_anomaly_engine) if get_anomaly_engine is not None else None,
        bi=ServiceBiSource(bi_service) if bi_service is not None else None,
        incidents=incidents
        or (AlertingIncidentSource(get_alerting, scrub_rules=scrub_rules) if get_alerting is not None else None),
        telemetry=ReaderTelemetrySource(get_telemetry) if get_telemetry is not None else None,
    )
