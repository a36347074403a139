"""Evaluate one detector over a whole evaluation set."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..detectors import Detector, make_detector
from ._events import EventScore, score_events
from ._generate import EvalSet
from ._pipeline import alarm_times


@dataclass(frozen=True, slots=True)
class EvalResult:
    detector: str
    score: EventScore
    alarms: dict[str, list[float]]
    cpu_seconds: float
    points: int


def evaluate(data: EvalSet, detector: str, *, make: Callable[[], Detector] | None = None) -> EvalResult:
    """Run ``detector`` (a ``make_detector`` name) over every series and score the alarms.

    ``make`` builds the detectors instead (a variant with other parameters, for benchmarks);
    ``detector`` then only labels the result.
    """
    factory = make or (lambda: make_detector(detector))
    alarms: dict[str, list[float]] = {}
    cpu = 0.0
    points = 0
    for s in data.series:
        began = time.process_time()
        alarms[s.name], _ = alarm_times(s, factory)
        cpu += time.process_time() - began
        points += int(s.timestamps.size)
    end = float(data.series[0].timestamps[-1]) if data.series else data.scored_from
    score = score_events(
        alarms, data.incidents, series=[s.name for s in data.series], scored_from=data.scored_from, scored_to=end
    )
    return EvalResult(detector, score, alarms, cpu, points)
