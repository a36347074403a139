"""Run a detector the way the engine does (detector → episodes → posted alerts) over a series.

An *alarm* is what a person receives: an episode reaching ``min_severity`` (the engine's
``alert_min_severity``, warning by default), on the side of the range the signal alerts on,
after ``fire_after`` points and resolved after ``resolve_after``, as the engine's defaults.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...core.models import Severity
from ..detectors import BatchScores, Detector
from ..engine.episodes import EpisodeTracker
from ..engine.watchlist import AlertSide
from ._generate import EvalSeries

SIDES: dict[str, AlertSide] = {
    "request_rate": "both",
    "latency_p95": "high",
    "error_ratio": "high",
    "registrations": "both",
    "payment_success_ratio": "low",
    "active_users": "both",
}


def alarm_times(
    series: EvalSeries,
    make: Callable[[], Detector],
    *,
    fire_after: int = 2,
    resolve_after: int = 5,
    min_severity: Severity = Severity.WARNING,
) -> tuple[list[float], BatchScores]:
    """The data times at which alerts would be posted for ``series``, and the raw scores."""
    detector = make()
    batch = detector.score_batch(series.timestamps, series.values)
    tracker = EpisodeTracker(
        series.kind, series.platform, side=SIDES[series.kind], fire_after=fire_after, resolve_after=resolve_after
    )
    episodes = tracker.observe(batch)
    if tracker.current is not None:
        episodes.append(tracker.current)
    times = [e.alerted_at(min_severity) for e in episodes]
    return sorted(t for t in times if t is not None and np.isfinite(t)), batch
