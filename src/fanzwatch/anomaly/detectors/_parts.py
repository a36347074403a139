"""Small O(1) streaming building blocks shared by the detectors."""

from __future__ import annotations

import math

_NAN = math.nan


class RecordRange:
    """The range a feature has covered so far, and how far a new value breaks out of it.

    ``novelty(x)`` is the distance outside ``[low, high]`` in units of the range width
    (0 inside), once ``min_count`` values have been seen; it then learns ``x``. This is the
    "record-breaking" statistic: scale-free, robust to any noise distribution (the range of
    a heavy-tailed series is wide), and one-shot: once a level has been seen it no longer
    surprises, so a recurring pattern stops alerting.

    With ``runs`` set, a run of consecutive records is measured from where the range stood
    before the run began, so a smoothed feature drifting out step by step (a level shift
    seen through a moving average) adds up instead of breaking each new record by a hair.
    """

    __slots__ = ("_anchor_high", "_anchor_low", "count", "high", "low", "min_count", "runs")

    def __init__(self, min_count: int, *, runs: bool = False) -> None:
        self.min_count = min_count
        self.runs = runs
        self.count = 0
        self.low = math.inf
        self.high = -math.inf
        self._anchor_low = math.inf
        self._anchor_high = -math.inf

    def novelty(self, x: float) -> float:
        """How far ``x`` breaks out of the range, in range widths; then learn it."""
        low, high = (self._anchor_low, self._anchor_high) if self.runs else (self.low, self.high)
        out = 0.0
        if self.count >= self.min_count:
            width = high - low
            excess = x - high if x > high else low - x
            if excess > 0.0:
                out = excess / width if width > 0.0 else math.inf
        self.count += 1
        if x > self.high:
            self.high = x
        else:
            self._anchor_high = self.high
        if x < self.low:
            self.low = x
        else:
            self._anchor_low = self.low
        if self.count == 1:
            self._anchor_low = self._anchor_high = x
        return out


class PhaseMemory:
    """The value seen one period ago at the same phase (daily or weekly), from timestamps.

    Phases are buckets of the series' own step, so a 1-minute and a 30-minute series both
    compare with exactly one period earlier; a gap just means no comparison is possible.
    """

    __slots__ = ("_stamps", "_values", "buckets", "period", "tolerance", "width")

    def __init__(self, period: float, step: float, *, max_buckets: int = 20160) -> None:
        self.period = period
        self.buckets = max(1, min(max_buckets, round(period / step)))
        self.width = period / self.buckets
        self.tolerance = self.width / 2.0
        self._stamps = [_NAN] * self.buckets
        self._values = [_NAN] * self.buckets

    def exchange(self, timestamp: float, value: float) -> float:
        """Return the value one period before ``timestamp`` (NaN if unknown) and store this one."""
        k = int((timestamp % self.period) // self.width) % self.buckets
        before = self._stamps[k]
        previous = self._values[k] if abs(timestamp - self.period - before) <= self.tolerance else _NAN
        self._stamps[k] = timestamp
        self._values[k] = value
        return previous
