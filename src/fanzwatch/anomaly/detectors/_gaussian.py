"""A windowed Gaussian detector: NAB's classic sanity baseline.

The mean and standard deviation of the last ``window_points`` values define a normal
distribution; a point's score is the probability mass closer to the mean than the point
(``erf(|z|/√2)``), so 3σ scores 0.997. No seasonality, no robustness: it exists to check
the benchmark plumbing against NAB's published windowed-Gaussian figure.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar

from ._base import StepResult, StreamingDetector

_NAN = math.nan
_SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True, slots=True)
class WindowedGaussianDetectorParams:
    """Window length (points), warm-up (points) and the alert threshold on the score."""

    window_points: int = 6400
    min_points: int = 30
    threshold: float = 0.9999


class WindowedGaussianDetector(StreamingDetector):
    """z-score against the mean/σ of a trailing window of points.

    >>> d = WindowedGaussianDetector()
    >>> round(d.update(0.0, 5.0).score, 3)
    0.0
    """

    name: ClassVar[str] = "gaussian"

    def __init__(self, params: WindowedGaussianDetectorParams | None = None) -> None:
        self.params = params or WindowedGaussianDetectorParams()
        self.threshold = self.params.threshold
        self._z_range = NormalDist().inv_cdf(0.5 + self.threshold / 2.0)
        self._window: deque[float] = deque()
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
        n = len(window)
        score, lower, upper, deviation = 0.0, _NAN, _NAN, 0.0
        if n >= p.min_points:
            mean_d = self._sum / n
            std = math.sqrt(max(self._sumsq / n - mean_d * mean_d, 0.0))
            mean = self._shift + mean_d
            diff = abs(value - mean)
            if std > 0.0:
                z = diff / std
                score = math.erf(z / _SQRT2)
            else:
                z = 0.0 if diff == 0.0 else math.inf
                score = 0.0 if diff == 0.0 else 1.0
            lower, upper = mean - self._z_range * std, mean + self._z_range * std
            deviation = max(z - self._z_range, 0.0)
        if math.isnan(self._shift):
            self._shift = value
        window.append(value)
        d = value - self._shift
        self._sum += d
        self._sumsq += d * d
        if len(window) > p.window_points:
            d = window.popleft() - self._shift
            self._sum -= d
            self._sumsq -= d * d
        self._since_resum += 1
        if self._since_resum >= 10_000:
            self._since_resum = 0
            self._shift = window[-1]
            self._sum = math.fsum(v - self._shift for v in window)
            self._sumsq = math.fsum((v - self._shift) ** 2 for v in window)
        return score, lower, upper, deviation
