"""What Alertmanager has been told, and what it must be told next.

Each evaluation compares the active episodes with the alerts last accepted by
Alertmanager and plans the posts: a new alert, a re-send before ``endsAt`` runs out, a
resolution (``endsAt`` = now) when an episode ended, and, when an episode's severity
rises, the old alert resolved and the new one fired (severity is a label, so it is a
different alert to Alertmanager). Episodes below the minimum severity are not posted
(until they escalate). Nothing counts as told until a post succeeds, so a
failed post is simply planned again on the next evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ...core.models import Severity
from .alertmanager import AnomalyAlert
from .episodes import SEVERITY_RANK, Episode
from .series import SeriesKey, SeriesState


@dataclass(frozen=True, slots=True)
class _Told:
    severity: Severity
    episode_id: str
    starts_at: datetime
    sent_monotonic: float
    alert: AnomalyAlert


@dataclass(frozen=True, slots=True)
class Plan:
    """The alerts to post now and, once accepted, what will have been told."""

    alerts: list[AnomalyAlert]
    told: dict[SeriesKey, _Told]
    firing: int
    resolved: int


class AlertOutbox:
    """Reconciles active episodes with the alerts Alertmanager has accepted."""

    def __init__(self, *, resend_seconds: float, ttl_seconds: float, min_severity: Severity = Severity.INFO) -> None:
        self._resend = resend_seconds
        self._min_rank = SEVERITY_RANK[min_severity]
        self._ttl = timedelta(seconds=ttl_seconds)
        self._told: dict[SeriesKey, _Told] = {}

    @property
    def told(self) -> int:
        return len(self._told)

    def plan(
        self, states: Iterable[SeriesState], *, now: datetime, monotonic: float, unknown: frozenset[str] = frozenset()
    ) -> Plan:
        """Posts needed now. Series of ``unknown`` signals (unreadable) fire and re-send nothing."""
        alerts: list[AnomalyAlert] = []
        told = dict(self._told)
        firing = resolved = 0
        active: set[SeriesKey] = set()
        for state in states:
            episode = state.episodes.current
            if episode is None or SEVERITY_RANK[episode.severity] < self._min_rank:
                continue
            active.add(state.key)
            previous = told.get(state.key)
            if previous is not None and previous.severity != episode.severity:
                alerts.append(_resolution(previous.alert, now))
                resolved += 1
                previous = None
            due = previous is None or previous.episode_id != episode.id
            due = due or monotonic - (previous.sent_monotonic if previous else 0.0) >= self._resend
            if due and state.signal.key not in unknown:
                alert = _alert(state, episode, now + self._ttl)
                alerts.append(alert)
                firing += 1
                told[state.key] = _Told(episode.severity, episode.id, alert.starts_at, monotonic, alert)
            elif previous is None:
                told.pop(state.key, None)
        for key in [k for k in told if k not in active]:
            alerts.append(_resolution(told.pop(key).alert, now))
            resolved += 1
        return Plan(alerts=alerts, told=told, firing=firing, resolved=resolved)

    def accepted(self, plan: Plan) -> None:
        """Alertmanager took ``plan.alerts``: remember what it now knows."""
        self._told = plan.told


def _alert(state: SeriesState, episode: Episode, ends_at: datetime) -> AnomalyAlert:
    return AnomalyAlert(
        metric=episode.metric,
        platform=episode.platform,
        severity=episode.severity,
        title=state.signal.title,
        unit=state.signal.unit,
        value=episode.value,
        lower=episode.lower,
        upper=episode.upper,
        score=episode.score,
        starts_at=datetime.fromtimestamp(episode.started_at, UTC),
        ends_at=ends_at,
    )


def _resolution(alert: AnomalyAlert, now: datetime) -> AnomalyAlert:
    return AnomalyAlert(
        metric=alert.metric,
        platform=alert.platform,
        severity=alert.severity,
        title=alert.title,
        unit=alert.unit,
        value=alert.value,
        lower=alert.lower,
        upper=alert.upper,
        score=alert.score,
        starts_at=alert.starts_at,
        ends_at=max(now, alert.starts_at),
    )
