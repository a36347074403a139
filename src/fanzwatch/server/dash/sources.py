"""What FanzDash reads: one small protocol per source, bundled in ``DashSources``.

Each protocol has a real implementation (HTTP to Prometheus and Alertmanager through
the server's shared ``httpx.AsyncClient``; direct calls into the feature services) and
tests use in-memory ones. A source that the server runs without is ``None`` in
``DashSources``: its pages then say how to turn it on. Methods raise ``SourceError``
(see ``errors``) and nothing else on purpose.

>>> sources = DashSources(prometheus=HttpPrometheus(http, "http://127.0.0.1:9090"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from ...bi.models import BiReport
from ...health import CheckReport, HealthReport
from ...rum.store import ErrorSummary, VitalP75
from .telemetry_source import TelemetrySource

# -- Prometheus --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a query answer: its labels and points (unix seconds, value or None)."""

    labels: Mapping[str, str]
    timestamps: Sequence[float]
    values: Sequence[float | None]

    def last(self) -> float | None:
        """The newest value that is a number."""
        return next((v for v in reversed(self.values) if v is not None), None)


class PrometheusSource(Protocol):
    """Reads Prometheus' query API. ``url`` is shown in messages."""

    url: str

    async def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        """``/api/v1/query_range``; values that are not finite numbers come back as None."""
        ...


# -- Alertmanager ------------------------------------------------------------------------

AlertState = Literal["active", "suppressed", "unprocessed"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """One silence matcher, as Alertmanager's API has it."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def operator(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.is_regex, self.is_equal)
        ]

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.operator}"{escaped}"'


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    state: AlertState
    starts_at: datetime
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "(unnamed)")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "none")


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: Literal["active", "pending", "expired"]


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str


class AlertmanagerSource(Protocol):
    """Alertmanager's v2 API: alerts and silences."""

    url: str

    async def alerts(self) -> list[Alert]: ...

    async def silences(self) -> list[Silence]: ...

    async def create_silence(self, request: SilenceRequest) -> str:
        """Create a silence; returns its id."""
        ...

    async def expire_silence(self, silence_id: str) -> None: ...


# -- the server's own features -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HealthPoint:
    """One recorded result of one check."""

    time: datetime
    status: str
    observed_value: float | None
    duration: float
    output: str


class HealthSource(Protocol):
    async def report(self) -> HealthReport:
        """Every check's latest result (from the runner's cache)."""
        ...

    def history(self, name: str) -> list[HealthPoint]:
        """Recorded results of one check, oldest first (bounded)."""
        ...


class RumSource(Protocol):
    async def vitals(self, *, since: datetime, platform: str | None) -> list[VitalP75]: ...

    async def errors(self, *, since: datetime, platform: str | None, limit: int) -> list[ErrorSummary]: ...


@dataclass(frozen=True, slots=True)
class AnomalySeries:
    """One watched series with its recent points ``[t, value, lower, upper, score, is_anomaly]``."""

    metric: str
    title: str
    unit: str
    platform: str
    alert_on: str
    stale: bool
    active: bool
    points: list[list[float | bool | None]]
    state: str = "watching"
    """``watching``, ``learning`` (too little history to alarm), ``idle`` (no traffic) or ``stale``."""
    learning: tuple[int, int] | None = None
    """(points seen, points needed) while learning."""


@dataclass(frozen=True, slots=True)
class EngineView:
    status: str
    output: str
    blind: bool = False
    """The engine cannot see (Prometheus unreachable, erroring, or not evaluating): say so."""
    unreadable: tuple[str, ...] = ()
    """Queries the engine cannot read now; some while not ``blind``: it is partly blind."""
    learning: int = 0
    watching: int = 0
    idle_platforms: tuple[str, ...] = ()

    @property
    def partly_blind(self) -> bool:
        return not self.blind and bool(self.unreadable)


@dataclass(frozen=True, slots=True)
class Analysis:
    """Insights and forecasts of one signal (one entry per series), and the recent history."""

    insights: list[dict[str, object]]
    forecasts: list[dict[str, object]]
    history: list[Series]


class AnomalySource(Protocol):
    def status(self) -> EngineView: ...

    def series(self, *, metric: str | None, platform: str | None, points: int) -> list[AnomalySeries]: ...

    def episodes(self, *, platform: str | None) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        """(active, recently ended newest first), as the anomaly API renders them."""
        ...

    async def analysis(self, metric: str, *, platform: str | None, days: float, hours: float) -> Analysis: ...


class BiSource(Protocol):
    @property
    def platforms(self) -> tuple[str, ...]: ...

    async def report(self, window: str, *, platform: str | None) -> BiReport: ...


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    title: str
    priority: str
    status: str
    opened_at: datetime
    platform: str | None = None
    url: str | None = None
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None
    alert_count: int | None = None
    revenue_at_risk: float | None = None
    """Revenue at risk (open) or lost (final), in ``revenue_currency``; None: not priced."""
    revenue_currency: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """What the Incidents list shows: empty ``statuses`` is every status."""

    statuses: tuple[str, ...] = ()
    priority: str | None = None
    platform: str | None = None
    opened_after: datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class IncidentDetail:
    """One incident with everything its page shows (rows as the incident API returns them)."""

    incident: Incident
    summary: str
    runbook_url: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    reopen_count: int
    labels: Mapping[str, str]
    platforms: tuple[str, ...]
    alerts: Sequence[Mapping[str, object]]
    timeline: Sequence[Mapping[str, object]]
    notifications: Sequence[Mapping[str, object]]
    remediation: Sequence[Mapping[str, object]]
    impact: Mapping[str, Any] | None = None
    """What the incident cost, as ``fanzwatch.impact`` stored it (None: not priced yet)."""


class IncidentSource(Protocol):
    """Incidents of the alerting feature: read, and worked (acknowledge, resolve, note).

    The actions raise ``SourceRejectedError`` when they do not apply (no such incident,
    already resolved), with the sentence to show.
    """

    statuses: tuple[str, ...]
    """Every status an incident can have, in lifecycle order."""
    open_statuses: tuple[str, ...]
    """The ones still being worked (what "open" means in the list and on the Overview)."""

    async def incidents(self) -> list[Incident]:
        """The open ones (triggered or acknowledged), newest first."""
        ...

    async def search(self, wanted: IncidentFilter) -> tuple[list[Incident], int]: ...

    async def detail(self, incident_id: int) -> IncidentDetail | None: ...

    async def acknowledge(self, incident_id: int, *, by: str) -> bool:
        """Whether this call changed it (acknowledging twice is not an error)."""
        ...

    async def resolve(self, incident_id: int, *, by: str, note: str | None) -> None: ...

    async def add_note(self, incident_id: int, *, by: str, text: str) -> None: ...

    async def report(self, incident_id: int) -> str | None:
        """The post-incident report draft in Markdown (None: no such incident)."""
        ...


# -- the bundle --------------------------------------------------------------------------


@dataclass
class DashSources:
    """Everything FanzDash can read; ``None`` marks a source this server runs without."""

    prometheus: PrometheusSource | None = None
    alertmanager: AlertmanagerSource | None = None
    health: HealthSource | None = None
    rum: RumSource | None = None
    anomalies: AnomalySource | None = None
    bi: BiSource | None = None
    incidents: IncidentSource | None = None
    telemetry: TelemetrySource | None = None


__all__ = [
    "Alert",
    "AlertmanagerSource",
    "Analysis",
    "AnomalySeries",
    "AnomalySource",
    "BiSource",
    "CheckReport",
    "DashSources",
    "EngineView",
    "HealthPoint",
    "HealthSource",
    "Incident",
    "IncidentDetail",
    "IncidentFilter",
    "IncidentSource",
    "Matcher",
    "PrometheusSource",
    "RumSource",
    "Series",
    "Silence",
    "SilenceRequest",
]
