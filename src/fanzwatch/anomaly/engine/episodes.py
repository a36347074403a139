"""When a series' anomaly starts and ends: a small state machine over detector scores.

The detector flags the point where behaviour breaks (``is_anomaly``); it may then rest
its score so one incident raises one flag. An *episode* therefore starts after
``fire_after`` consecutive points that are flagged or outside the expected range (at
least one flagged), on the side of the range the signal alerts on, and lasts while the
value stays outside the range; it ends after ``resolve_after`` consecutive points back
inside it. NaN points (gaps) neither start nor end anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ...core.models import Severity
from ..detectors import BatchScores, severity_for
from .watchlist import AlertSide

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_WARNING_FLOOR = 3.0  # a detector that confirmed an anomaly itself: at least a warning


@dataclass
class Episode:
    """One anomaly of one series, from its first anomalous point to its last."""

    metric: str
    platform: str
    started_at: float
    severity: Severity
    value: float
    lower: float
    upper: float
    score: float
    last_at: float
    peak_score: float
    peak_deviation: float
    fired_at: float = math.nan
    """Data time at which the episode was confirmed (its ``fire_after``-th point)."""
    severity_at: dict[Severity, float] = field(default_factory=dict)
    """Data time at which each severity was first reached (when it would be posted)."""
    ended_at: float | None = None
    end_reason: str | None = None

    @property
    def id(self) -> str:
        """Stable identity: the series and the start of the episode."""
        return f"{self.metric}:{self.platform}:{self.started_at:.0f}"

    @property
    def active(self) -> bool:
        return self.ended_at is None

    def alerted_at(self, min_severity: Severity) -> float | None:
        """Data time at which the episode first reached ``min_severity`` (None: never)."""
        times = [t for sev, t in self.severity_at.items() if SEVERITY_RANK[sev] >= SEVERITY_RANK[min_severity]]
        return min(times) if times else None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "metric": self.metric,
            "platform": self.platform,
            "active": self.active,
            "severity": self.severity.value,
            "priority": self.severity.priority.value,
            "started_at": self.started_at,
            "fired_at": _num(self.fired_at),
            "ended_at": self.ended_at,
            "end_reason": self.end_reason,
            "last_at": self.last_at,
            "value": _num(self.value),
            "expected_lower": _num(self.lower),
            "expected_upper": _num(self.upper),
            "score": _num(self.score),
            "peak_score": _num(self.peak_score),
            "peak_deviation": _num(self.peak_deviation),
        }


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


class EpisodeTracker:
    """The episode state of one series; feed it scored points in time order."""

    def __init__(self, metric: str, platform: str, *, side: AlertSide, fire_after: int, resolve_after: int) -> None:
        self.metric = metric
        self.platform = platform
        self.side = side
        self.fire_after = fire_after
        self.resolve_after = resolve_after
        self.current: Episode | None = None
        self._run = 0
        self._run_flagged = False
        self._run_start = math.nan
        self._run_peak = (0.0, 0.0)  # (score, deviation) maxima of the pending run
        self._normal = 0

    def _outside(self, value: float, lower: float, upper: float) -> bool:
        high = value > upper
        low = value < lower
        return (high and self.side != "low") or (low and self.side != "high")

    def _flag_counts(self, value: float, lower: float, upper: float) -> bool:
        """A flag inside the range (a broken pattern) counts unless the signal is one-sided."""
        if math.isnan(lower) or math.isnan(upper) or lower <= value <= upper:
            if self.side == "both":
                return True
            middle = (lower + upper) / 2
            return math.isnan(middle) or (value > middle) == (self.side == "high")
        return self._outside(value, lower, upper)

    def observe(self, batch: BatchScores) -> list[Episode]:
        """Advance over a batch of scored points; return the episodes that ended in it."""
        if batch.active is not None:
            return self._follow(batch, batch.active, batch.rebaseline)
        ended: list[Episode] = []
        rows = zip(
            batch.timestamps.tolist(),
            batch.values.tolist(),
            batch.scores.tolist(),
            batch.lower.tolist(),
            batch.upper.tolist(),
            batch.is_anomaly.tolist(),
            batch.deviation.tolist(),
            strict=True,
        )
        for ts, value, score, lower, upper, flagged, deviation in rows:
            if math.isnan(value):
                continue
            flag = bool(flagged) and self._flag_counts(value, lower, upper)
            outside = self._outside(value, lower, upper)
            episode = self.current
            if episode is None:
                if flag or (self._run > 0 and outside):
                    if self._run == 0:
                        self._run_start, self._run_peak = ts, (0.0, 0.0)
                    self._run_peak = (max(self._run_peak[0], score), max(self._run_peak[1], deviation))
                    self._run += 1
                    self._run_flagged = self._run_flagged or flag
                    if self._run >= self.fire_after and self._run_flagged:
                        self.current = Episode(
                            metric=self.metric,
                            platform=self.platform,
                            started_at=self._run_start,
                            severity=severity_for(self._run_peak[1]),
                            value=value,
                            lower=lower,
                            upper=upper,
                            score=score,
                            last_at=ts,
                            peak_score=self._run_peak[0],
                            peak_deviation=self._run_peak[1],
                            fired_at=ts,
                        )
                        self.current.severity_at[self.current.severity] = ts
                        self._normal = 0
                else:
                    self._run, self._run_flagged = 0, False
                continue
            episode.value, episode.lower, episode.upper, episode.score, episode.last_at = value, lower, upper, score, ts
            episode.peak_score = max(episode.peak_score, score)
            if flag or outside:
                self._normal = 0
                episode.peak_deviation = max(episode.peak_deviation, deviation)
                severity = severity_for(deviation)
                if SEVERITY_RANK[severity] > SEVERITY_RANK[episode.severity]:
                    episode.severity = severity
                    episode.severity_at.setdefault(severity, ts)
            else:
                self._normal += 1
                if self._normal >= self.resolve_after:
                    ended.append(self.end(ts, "back in the expected range"))
        return ended

    def _follow(
        self, batch: BatchScores, active: npt.NDArray[np.bool_], rebaseline: npt.NDArray[np.bool_] | None
    ) -> list[Episode]:
        """Episodes of a detector that follows anomalies itself (``active``): one per active run.

        The episode opens at the first active point on the alerting side and ends when the
        detector says the anomaly is over, or that it took the shifted level as the new normal.
        """
        ended: list[Episode] = []
        rebased = rebaseline if rebaseline is not None else np.zeros(active.size, dtype=np.bool_)
        rows = zip(
            batch.timestamps.tolist(),
            batch.values.tolist(),
            batch.scores.tolist(),
            batch.lower.tolist(),
            batch.upper.tolist(),
            batch.deviation.tolist(),
            active.tolist(),
            rebased.tolist(),
            strict=True,
        )
        for ts, value, score, lower, upper, deviation, on, rebased_here in rows:
            if math.isnan(value):
                continue
            episode = self.current
            if episode is None:
                if on and self._flag_counts(value, lower, upper):
                    severity = severity_for(max(deviation, _WARNING_FLOOR))
                    self.current = Episode(
                        metric=self.metric,
                        platform=self.platform,
                        started_at=ts,
                        severity=severity,
                        value=value,
                        lower=lower,
                        upper=upper,
                        score=score,
                        last_at=ts,
                        peak_score=score,
                        peak_deviation=deviation,
                        fired_at=ts,
                    )
                    self.current.severity_at[severity] = ts
                continue
            episode.value, episode.lower, episode.upper, episode.last_at = value, lower, upper, ts
            episode.score, episode.peak_score = score, max(episode.peak_score, score)
            if on:
                episode.peak_deviation = max(episode.peak_deviation, deviation)
                severity = severity_for(deviation)
                if SEVERITY_RANK[severity] > SEVERITY_RANK[episode.severity]:
                    episode.severity = severity
                    episode.severity_at.setdefault(severity, ts)
                continue
            hours = (ts - episode.started_at) / 3600
            reason = (
                f"re-baselined after {hours:.1f} h: the shifted level is now taken as normal"
                if rebased_here
                else "back in the expected range"
            )
            ended.append(self.end(ts, reason))
        return ended

    def end(self, at: float, reason: str) -> Episode:
        """End the current episode (resolved, or the series went stale)."""
        episode = self.current
        if episode is None:
            raise RuntimeError("no episode to end")
        episode.ended_at = at
        episode.end_reason = reason
        self.current = None
        self._run, self._run_flagged, self._normal = 0, False, 0
        return episode
