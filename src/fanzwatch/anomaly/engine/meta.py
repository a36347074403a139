"""Meta-alerts: the engine tells Alertmanager when it cannot see.

An engine that reads nothing must not look like an engine that finds nothing. Two alerts
are posted by the engine itself (they work while Prometheus is down, when no rule can):

- ``AnomalyEngineBlind``: the engine's state has been ``unknown`` (Prometheus unreachable,
  erroring, or no evaluation) for ``blind_after_seconds``;
- ``AnomalySeriesStale`` (one per series): a watched series has had no data for
  ``stale_after_seconds`` while Prometheus answers.

Their labels are exactly those of the provisioning rules of the same name
(``provisioning/definitions/alerts_anomaly.py``) on the engine's own gauges, so when both
the engine and Prometheus can speak, Alertmanager sees one alert, and either alone keeps it
alive. Like anomalies they are re-sent before ``endsAt`` and resolved with ``endsAt`` = now;
a failed post is retried on the next evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ...core.models import Severity
from .alertmanager import SERVICE, iso_time

ENGINE_BLIND = "AnomalyEngineBlind"
SERIES_STALE = "AnomalySeriesStale"
ENGINE_STOPPED = "AnomalyEngineStopped"


@dataclass(frozen=True, slots=True)
class MetaAlert:
    """One meta-alert as posted: its identity (name + labels) and what it says."""

    name: str
    extra: tuple[tuple[str, str], ...]
    summary: str
    description: str
    starts_at: datetime
    ends_at: datetime
    severity: Severity = Severity.WARNING

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (self.name, self.extra)

    @property
    def labels(self) -> dict[str, str]:
        return {
            "alertname": self.name,
            "severity": self.severity.value,
            "priority": self.severity.priority.value,
            "service": SERVICE,
            **dict(self.extra),
        }

    def payload(self, generator_url: str | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "labels": self.labels,
            "annotations": {"summary": self.summary, "description": self.description},
            "startsAt": iso_time(self.starts_at),
            "endsAt": iso_time(self.ends_at),
        }
        if generator_url:
            out["generatorURL"] = generator_url
        return out

    def resolved(self, now: datetime) -> MetaAlert:
        return MetaAlert(
            self.name, self.extra, self.summary, self.description, self.starts_at, max(now, self.starts_at)
        )


@dataclass(frozen=True, slots=True)
class BlindCondition:
    """Something the engine cannot see right now, and since when (data or wall time)."""

    name: str
    extra: tuple[tuple[str, str], ...]
    since: float
    summary: str
    description: str


class MetaOutbox:
    """What Alertmanager has been told about blindness, and what it must be told next."""

    def __init__(self, *, resend_seconds: float, ttl_seconds: float) -> None:
        self._resend = resend_seconds
        self._ttl = timedelta(seconds=ttl_seconds)
        self._told: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[MetaAlert, float]] = {}
        self._pending: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[MetaAlert, float]] = {}

    @property
    def firing(self) -> list[MetaAlert]:
        return [alert for alert, _ in self._told.values()]

    def plan(self, conditions: list[BlindCondition], *, now: datetime, monotonic: float) -> list[MetaAlert]:
        """Posts needed now: new or due re-sends of ``conditions``, resolutions of the rest."""
        alerts: list[MetaAlert] = []
        told = dict(self._told)
        wanted = set()
        for c in conditions:
            key = (c.name, c.extra)
            wanted.add(key)
            previous = told.get(key)
            if previous is not None and monotonic - previous[1] < self._resend:
                continue
            starts = previous[0].starts_at if previous else datetime.fromtimestamp(c.since, UTC)
            alert = MetaAlert(c.name, c.extra, c.summary, c.description, starts, now + self._ttl)
            alerts.append(alert)
            told[key] = (alert, monotonic)
        for key in [k for k in told if k not in wanted]:
            alerts.append(told.pop(key)[0].resolved(now))
        self._pending = told
        return alerts

    def accepted(self) -> None:
        """Alertmanager took the last plan."""
        self._told = self._pending
