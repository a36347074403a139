"""The guide's detector, kept as the baseline every other detector is compared with.

The guide (part 8) flags a point when it lies more than two standard deviations from the
mean of the last seven days, with confidence ``min(z / 3, 1)`` and an alert when that
confidence exceeds 0.8, after 100 points of history. It ignores daily and weekly cycles,
so evening peaks look anomalous and night-time incidents hide inside a wide band: that is
why it is only a baseline. Unlike the guide, a flat history (σ = 0) does not divide by
zero, NaN values are skipped, and the statistics are kept incrementally instead of
re-training on every point.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import ClassVar

from ._base import StepResult, StreamingDetector

_NAN = math.nan


@dataclass(frozen=True, slots=True)
class SeedDetectorParams:
    """The guide's constants."""

    window_seconds: float = 7 * 86400.0
    min_points: int = 100
    z_range: float = 2.0
    confidence_divisor: float = 3.0
    threshold: float = 0.8


class SeedDetector(StreamingDetector):
    """Global mean/standard-deviation z-score over a trailing seven-day window.

    >>> d = SeedDetector()
    >>> [d.update(float(t), 1.0).score for t in range(3)]
    [0.0, 0.0, 0.0]
    """

    name: ClassVar[str] = "seed"

    def __init__(self, params: SeedDetectorParams | None = None) -> None:
        self.params = params or SeedDetectorParams()
        self.threshold = self.params.threshold
        self._window: deque[tuple[float, float]] = deque()
        # Sums of (value - shift) keep the variance accurate for large values.
        self._shift = _NAN
        self._sum = 0.0
        self._sumsq = 0.0
        self._since_resum = 0
        self._last_t = -math.inf

    def _step(self, timestamp: float, value: float) -> StepResult:
        p = self.params
        if not (timestamp > self._last_t) or math.isnan(value) or math.isinf(value):
            return 0.0, _NAN, _NAN, 0.0
        self._last_t = timestamp
        window = self._window
        cutoff = timestamp - p.window_seconds
        while window and window[0][0] < cutoff:
            _, old = window.popleft()
            d = old - self._shift
            self._sum -= d
            self._sumsq -= d * d
        n = len(window)
        score, lower, upper, deviation = 0.0, _NAN, _NAN, 0.0
        if n > p.min_points:
            mean_d = self._sum / n
            var = max(self._sumsq / n - mean_d * mean_d, 0.0)
            std = math.sqrt(var)
            mean = self._shift + mean_d
            diff = abs(value - mean)
            # σ = 0 (a flat week): any difference is infinitely surprising, no division by zero.
            z = diff / std if std > 0.0 else 0.0 if diff == 0.0 else math.inf
            score = min(z / p.confidence_divisor, 1.0)
            lower, upper = mean - p.z_range * std, mean + p.z_range * std
            deviation = max(z - p.z_range, 0.0)
        if math.isnan(self._shift):
            self._shift = value
        window.append((timestamp, value))
        d = value - self._shift
        self._sum += d
        self._sumsq += d * d
        self._since_resum += 1
        if self._since_resum >= 10_000:  # bound floating drift of the running sums
            self._resum()
        return score, lower, upper, deviation

    def _resum(self) -> None:
        self._since_resum = 0
        self._shift = self._window[-1][1]
        self._sum = math.fsum(v - self._shift for _, v in self._window)
        self._sumsq = math.fsum((v - self._shift) ** 2 for _, v in self._window)
