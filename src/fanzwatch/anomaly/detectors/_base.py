"""What a detector is: a streaming scorer of one series, pure and causal.

Every detector sees points in time order, one at a time (``update``), and may only use
points up to the current one, so the score of a prefix equals the first scores of the
whole series. ``score_batch`` is the same computation over arrays, for NAB and history
replay; it must give the same numbers as calling ``update`` point by point.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import numpy.typing as npt

from ...core.models import Severity

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Score:
    """A detector's judgement of one point.

    ``score`` is in [0, 1]; ``lower``/``upper`` is the expected range (NaN during warm-up);
    ``deviation`` is scale-free (how many robust spreads outside the range, 0 inside);
    ``severity`` is derived from ``deviation`` (None when the point is normal).
    """

    timestamp: float
    value: float
    score: float
    lower: float
    upper: float
    is_anomaly: bool
    deviation: float
    severity: Severity | None


@dataclass(frozen=True, slots=True)
class BatchScores:
    """``Score`` fields as parallel arrays, one entry per input point."""

    timestamps: FloatArray
    values: FloatArray
    scores: FloatArray
    lower: FloatArray
    upper: FloatArray
    is_anomaly: npt.NDArray[np.bool_]
    deviation: FloatArray
    active: npt.NDArray[np.bool_] | None = None
    """Detectors that follow an episode themselves: True while the anomaly goes on."""
    rebaseline: npt.NDArray[np.bool_] | None = None
    """True where the detector accepted a sustained shift as the new normal."""


@dataclass(frozen=True, slots=True)
class Progress:
    """How much history a detector has, and how much it needs before it can alarm."""

    seen: int
    needed: int

    @property
    def learning(self) -> bool:
        return self.seen < self.needed


class Detector(Protocol):
    """A streaming detector of one series. Build a new one per series."""

    name: ClassVar[str]

    def update(self, timestamp: float, value: float) -> Score:
        """Score one point (unix seconds, value; NaN allowed) and learn from it."""
        ...

    def score_batch(self, timestamps: FloatArray, values: FloatArray) -> BatchScores:
        """Score many points in order, continuing from the current state."""
        ...

    def progress(self) -> Progress:
        """Points seen so far and points needed before the detector can alarm."""
        ...


# Deviation (robust spreads beyond the expected range) at which an anomaly is raised to a
# higher severity. Scale-free, so one table serves every metric.
_WARNING_DEVIATION = 3.0
_CRITICAL_DEVIATION = 6.0


def severity_for(deviation: float) -> Severity:
    """Map a scale-free deviation (spreads outside the expected range) to a severity."""
    if deviation >= _CRITICAL_DEVIATION:
        return Severity.CRITICAL
    if deviation >= _WARNING_DEVIATION:
        return Severity.WARNING
    return Severity.INFO


StepResult = tuple[float, float, float, float]
"""What one detector step returns: ``(score, lower, upper, deviation)``."""


class StreamingDetector(ABC):
    """Base for detectors written as one scalar step per point.

    A subclass implements ``_step(timestamp, value)``; ``update`` and ``score_batch`` both go
    through it, so the batch path gives exactly the numbers of point-by-point updates. The
    step is a tight scalar loop (no per-point numpy calls), which keeps the batch path fast.
    """

    name: ClassVar[str]
    threshold: float
    """Score at or above which a point is an anomaly."""
    learn_points: ClassVar[int] = 200
    """Points before the detector can alarm (what ``progress`` reports)."""
    _points_seen: int = 0

    def progress(self) -> Progress:
        return Progress(self._points_seen, self.learn_points)

    @abstractmethod
    def _step(self, timestamp: float, value: float) -> StepResult:
        """Score one point and learn from it."""

    def update(self, timestamp: float, value: float) -> Score:
        self._points_seen += 1
        score, lower, upper, deviation = self._step(float(timestamp), float(value))
        is_anomaly = score >= self.threshold
        return Score(
            timestamp=float(timestamp),
            value=float(value),
            score=score,
            lower=lower,
            upper=upper,
            is_anomaly=is_anomaly,
            deviation=deviation,
            severity=severity_for(deviation) if is_anomaly else None,
        )

    def score_batch(self, timestamps: FloatArray, values: FloatArray) -> BatchScores:
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if ts.ndim != 1 or ts.shape != vs.shape:
            raise ValueError(f"timestamps and values must be 1-D arrays of one length, got {ts.shape} and {vs.shape}")
        step = self._step
        rows = [step(t, v) for t, v in zip(ts.tolist(), vs.tolist(), strict=True)]
        self._points_seen += len(rows)
        out = np.array(rows, dtype=np.float64).reshape(len(rows), 4)
        scores = np.ascontiguousarray(out[:, 0])
        return BatchScores(
            timestamps=ts.copy(),
            values=vs.copy(),
            scores=scores,
            lower=np.ascontiguousarray(out[:, 1]),
            upper=np.ascontiguousarray(out[:, 2]),
            is_anomaly=scores >= self.threshold,
            deviation=np.ascontiguousarray(out[:, 3]),
        )
