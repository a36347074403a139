"""A CUSUM threshold calibrated on the series' own history, in false alarms per week.

A CUSUM of a well-modelled series leaves zero often and comes back; each such excursion
has a peak. How often peaks exceed ``h`` is what sets the false-alarm rate, and it depends
on what the model cannot know from the spread alone: heavy tails, coarse counts (a ratio
of two payments jumps between 0, 0.5 and 1), and autocorrelated noise (runs of small
errors add up). So the threshold is read from the series itself: the largest excursion
peaks of the last ``window`` seconds are fitted with an exponential tail (the peaks of a
CUSUM have one, approximately; peaks-over-threshold in extreme-value terms), and ``h`` is
where that tail is crossed ``rate_per_week`` times a week. An excursion that fired was
cut at the threshold of its time, so it is a *censored* peak (at least that high): the
tail's scale is the maximum-likelihood one with right-censoring, which rises, not
sticks, when the threshold fires too often. It never goes below ``floor``
(a clean series is not made hair-triggered) and never above ``ceiling`` (a noisy one is not
silenced), and is the floor until ``min_seconds`` of history exist (the detector cannot alarm before that anyway).

O(1) per point; the fit runs at most once per ``refit_seconds`` on at most a few hundred peaks.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

_WEEK = 7 * 86400.0


class CalibratedThreshold:
    """Excursion peaks of one CUSUM and the threshold they imply."""

    __slots__ = (
        "_first",
        "_fitted_at",
        "_peak",
        "_peaks",
        "ceiling",
        "floor",
        "h",
        "min_seconds",
        "rate_per_week",
        "refit_seconds",
        "tail",
        "window",
    )

    def __init__(
        self,
        *,
        floor: float,
        ceiling: float,
        rate_per_week: float,
        window: float = 4 * _WEEK,
        min_seconds: float = 86400.0,
        refit_seconds: float = 3600.0,
        tail: int = 20,
    ) -> None:
        self.floor = floor
        self.ceiling = ceiling
        self.rate_per_week = rate_per_week
        self.window = window
        self.min_seconds = min_seconds
        self.refit_seconds = refit_seconds
        self.tail = tail
        self.h = floor
        self._peaks: deque[tuple[float, float, bool]] = deque()
        self._peak = 0.0
        self._first = math.nan
        self._fitted_at = -math.inf

    def observe(self, t: float, c: float) -> None:
        """Follow the CUSUM value ``c`` at time ``t`` (record a peak when it returns to 0)."""
        if self._first != self._first:
            self._first = t
        if c > 0.0:
            if c > self._peak:
                self._peak = c
        elif self._peak > 0.0:
            self.close(t)
        if t - self._fitted_at >= self.refit_seconds:
            self._fit(t)

    def close(self, t: float, *, fired: bool = False) -> None:
        """End the current excursion: it returned to 0, or it ``fired`` (a censored peak)."""
        if self._peak > 0.0:
            self._peaks.append((t, self._peak, fired))
        self._peak = 0.0

    def _fit(self, t: float) -> None:
        self._fitted_at = t
        peaks = self._peaks
        while peaks and t - peaks[0][0] > self.window:
            peaks.popleft()
        span = min(t - self._first, self.window)
        if span < self.min_seconds or len(peaks) < 2 * self.tail:
            self.h = self.floor
            return
        top = heapq.nlargest(self.tail, peaks, key=lambda item: item[1])
        edge = top[-1][1]
        excess = sum(p - edge for _, p, _ in top)
        seen = sum(1 for _, _, fired in top if not fired) - 1  # the edge itself is no excess
        if seen <= 0:
            self.h = self.ceiling if excess > 0 or top[0][2] else self.h
            return
        scale = excess / seen
        rate = len(top) / (span / _WEEK)
        h = edge + scale * math.log(rate / self.rate_per_week) if scale > 0 else edge
        self.h = min(self.ceiling, max(self.floor, h))
