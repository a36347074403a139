"""The product's own yardstick: a seeded creator-platform evaluation set and event scoring.

>>> from fanzwatch.anomaly.evaluation import generate_eval_set, evaluate
>>> result = evaluate(generate_eval_set(seed=1, platforms=2), "seasonal")  # doctest: +SKIP
>>> result.score.recall, result.score.false_alarms_per_series_week      # doctest: +SKIP

``bench/bench_anomaly.py`` prints the headline figures; ``docs/anomaly-detectors.md``
describes the set and the scoring rules.
"""

from __future__ import annotations

from ._events import FALSE_ALARM_DEDUP, GRACE, EventScore, score_events
from ._generate import KINDS, MIN_SNR, EvalSeries, EvalSet, Incident, generate_eval_set
from ._pipeline import SIDES, alarm_times
from ._run import EvalResult, evaluate

__all__ = [
    "FALSE_ALARM_DEDUP",
    "GRACE",
    "KINDS",
    "MIN_SNR",
    "SIDES",
    "EvalResult",
    "EvalSeries",
    "EvalSet",
    "EventScore",
    "Incident",
    "alarm_times",
    "evaluate",
    "generate_eval_set",
    "score_events",
]
