"""The default detector: seasonal, level-aware, scale-free, one configuration for every series.

Two layers, both O(1) per point and strictly causal:

1. **A robust forecaster** gives the expected value and range. A level (EWMA of
   Huber-clipped errors) plus a daily seasonal profile (EWMA per time-of-day bucket of the
   series' own step, from real timestamps), and a robust spread (EWMA of clipped absolute
   errors, a running MAD). The expected range is ``forecast ± 3·spread``; the deviation
   outside it, in spreads, gives the severity.
2. **A novelty score** says how unprecedented the current behaviour is. Several features
   at several time scales (the value; its fast and slow moving averages, which see level
   shifts; its smoothed difference from one day and one week earlier at the same phase,
   which sees broken daily and weekly patterns such as a night-time drop) are each compared
   with the range that feature has covered so far. Breaking out of it by a fraction of its
   width is surprising whatever the metric's unit or noise, and a level seen once no
   longer surprises, so evening peaks and repeated patterns stop alerting.
3. **An anomaly likelihood** (Numenta's post-processing, ``_likelihood``) of the
   forecaster's residual: a bounded raw score ``z / (z + 6)`` of the residual ``z`` in
   spreads, whose 10-point mean is compared with the distribution of such means in this
   series' own history. Its tail probability, on a log scale (1e-9 = the threshold), is a
   second opinion beside the novelty; the larger wins. It catches a run of moderately
   large errors (a changed rhythm, a burst of volatility) that breaks no record.

After an alert the score rests for a number of points, so one incident raises one alert.

Counters (monotonic series) are modelled as their per-step increase, with a decrease read
as a counter reset, not an anomaly. NaN values are skipped; gaps only break the
same-phase comparison for the missing points; a flat series has zero spread and
zero-width ranges, which are handled without dividing by zero (any change of a flat
series is maximally novel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

from ._base import StepResult, StreamingDetector
from ._likelihood import AnomalyLikelihood
from ._parts import PhaseMemory, RecordRange

_NAN = math.nan
_DAY = 86400.0
_WEEK = 7 * _DAY
_MAD_TO_SIGMA = 1.2533  # σ / E|e| for a normal distribution


@dataclass(frozen=True, slots=True)
class SeasonalDetectorParams:
    """Everything tunable, with the single configuration used for every series.

    The novelty weights are expressed as the fraction of a feature's historical range it
    must break out by to reach the alert threshold.
    """

    warmup_points: int = 30
    """Points buffered to learn the step, whether the series is a counter, and the spread."""
    history_points: int = 200
    """Points of history before novelty is scored at all."""
    level_alpha: float = 0.1
    spread_beta: float = 0.02
    season_gamma: float = 0.2
    huber: float = 4.0
    range_spreads: float = 3.0
    fast_alpha: float = 0.5
    slow_alpha: float = 0.1
    season_alpha: float = 0.1
    value_break: float = 0.0135
    fast_break: float = 0.0957
    slow_break: float = 0.0845
    daily_break: float = 0.138
    weekly_break: float = 0.313
    rest_points: int = 35
    """After an alert, points whose score is held at 0 (one incident → one alert)."""
    memory_clip: float = 8.0
    """Same-phase memories keep values clipped to this many spreads (no echo alarms)."""
    record_runs: bool = True
    """Smoothed features measure a run of records from where it began (level shifts)."""
    history_seconds: float = 86400.0
    """Time of history (besides ``history_points``) before anything is scored."""
    likelihood: bool = True
    """Add the anomaly-likelihood evidence of the forecast residual (``_likelihood``)."""
    likelihood_alert: float = 1e-9
    """Tail probability of the residual's short-term mean that alone reaches the threshold."""
    raw_spreads: float = 6.0
    """Residual (in spreads) whose raw score is 0.5: ``raw = z / (z + raw_spreads)``."""
    likelihood_short: int = 10
    """Points in the short-term mean of the raw residual score (Numenta's 10)."""
    likelihood_history: int = 8640
    """Points of short-term means the likelihood's distribution is estimated from."""
    likelihood_min_count: int = 300
    """Short-term means needed before the likelihood says anything."""
    threshold: float = 0.5
    likelihood_adds: bool = False
    """Add the likelihood evidence to the novelty instead of taking the larger of the two.

    Adding scores 70.03 on NAB (vs 69.66) but raises one more alarm in the first weekend
    of a daily+weekly series, before the weekly cycle is known; off by default."""


class SeasonalDetector(StreamingDetector):
    """Seasonal, level-shift-aware, scale-free streaming detector (the default).

    >>> d = SeasonalDetector()
    >>> s = [d.update(300.0 * i, 10.0 + (i % 7)) for i in range(500)]
    >>> max(x.score for x in s[200:]) < d.threshold
    True
    """

    name: ClassVar[str] = "seasonal"

    def __init__(self, params: SeasonalDetectorParams | None = None) -> None:
        p = self.params = params or SeasonalDetectorParams()
        self.threshold = p.threshold
        self._buffer: list[tuple[float, float]] | None = []
        self._last_t = -math.inf
        self._first_t = math.inf
        self._counter = False
        self._prev_raw = _NAN
        self._step_s = 0.0
        self._daily: PhaseMemory | None = None
        self._weekly: PhaseMemory | None = None
        self._profile: list[float] = []
        self._seen: list[int] = []
        self._level = _NAN
        self._spread = 0.0
        self._quantum = math.inf
        self._prev_x = _NAN
        self._fast = _NAN
        self._slow = _NAN
        self._season_d = 0.0
        self._season_w = 0.0
        h = p.history_points
        runs = p.record_runs
        self._ranges = [RecordRange(h, runs=runs and i > 0) for i in range(5)]
        self._weights = tuple(
            1.0 / b for b in (p.value_break, p.fast_break, p.slow_break, p.daily_break, p.weekly_break)
        )
        self._rest = 0
        self._ratio = p.threshold / (1.0 - p.threshold)
        self._likelihood = AnomalyLikelihood(
            short=p.likelihood_short, history=p.likelihood_history, min_count=p.likelihood_min_count
        )
        self._log_alert = math.log(p.likelihood_alert)

    def _step(self, timestamp: float, value: float) -> StepResult:
        if not (timestamp > self._last_t) or math.isnan(value) or math.isinf(value):
            return 0.0, _NAN, _NAN, 0.0
        dt = timestamp - self._last_t
        self._last_t = timestamp
        buffer = self._buffer
        if buffer is not None:
            if not buffer:
                self._first_t = timestamp
            buffer.append((timestamp, value))
            if len(buffer) >= self.params.warmup_points:
                self._start(buffer)
            return 0.0, _NAN, _NAN, 0.0
        prev = self._prev_raw
        self._prev_raw = value
        if not self._counter:
            return self._score(timestamp, value, value, 0.0, 1.0)
        # A counter: model its increase per step; a drop is a reset (the increase is the value).
        per_step = self._step_s / dt
        increase = value - prev if value >= prev else value
        return self._score(timestamp, value, increase * per_step, prev, 1.0 / per_step)

    def _start(self, buffer: list[tuple[float, float]]) -> None:
        """End of warm-up: learn the step, counter-ness and spread, then replay the buffer."""
        self._buffer = None
        deltas = sorted(b[0] - a[0] for a, b in pairwise(buffer))
        self._step_s = step = deltas[len(deltas) // 2]
        rises = [b[1] - a[1] for a, b in pairwise(buffer)]
        self._counter = all(r >= 0.0 for r in rises) and sum(r > 0.0 for r in rises) * 2 >= len(rises)
        self._daily = PhaseMemory(_DAY, step)
        self._weekly = PhaseMemory(_WEEK, step)
        self._profile = [0.0] * self._daily.buckets
        self._seen = [0] * self._daily.buckets
        # A counter is replayed as its per-step increase (warm-up resets are not expected).
        increases = [(b[0], (b[1] - a[1]) * step / (b[0] - a[0])) for a, b in pairwise(buffer)]
        xs = increases if self._counter else buffer
        diffs = sorted(abs(b[1] - a[1]) for a, b in pairwise(xs))
        self._spread = diffs[len(diffs) // 2] / math.sqrt(2.0) * _MAD_TO_SIGMA if diffs else 0.0
        self._prev_raw = buffer[-1][1]
        for t, x in xs:
            self._learn(t, x, *self._forecast(t))

    def _forecast(self, timestamp: float) -> tuple[float, int, float]:
        """Expected value, its daily bucket, and the current spread (never below the floor)."""
        if math.isnan(self._level):
            return _NAN, 0, 0.0
        daily = self._daily
        assert daily is not None
        k = int((timestamp % _DAY) // daily.width) % daily.buckets
        seasonal = self._profile[k] if self._seen[k] >= 2 else 0.0
        # Half the series' resolution at least, so flat or quantised data never divide by 0.
        floor = 0.5 * self._quantum if self._quantum < math.inf else 0.0
        floor = max(floor, 1e-9 * abs(self._level), 1e-12)
        spread = self._spread if self._spread > floor else floor
        return self._level + seasonal, k, spread

    def _learn(self, timestamp: float, x: float, forecast: float, k: int, spread: float) -> float:
        """Update the forecaster and the features with ``x``; return the novelty (0 = none)."""
        p = self.params
        if math.isnan(self._level):
            self._level = self._fast = self._slow = self._prev_x = forecast = x
        error = x - forecast
        limit = p.huber * spread
        clipped = limit if error > limit else -limit if error < -limit else error
        self._level += p.level_alpha * clipped
        self._profile[k] += p.season_gamma * (x - self._level - self._profile[k])
        self._seen[k] += 1
        size = -error if error < 0.0 else error
        self._spread += p.spread_beta * ((size if size < limit else limit) * _MAD_TO_SIGMA - self._spread)
        change = abs(x - self._prev_x)
        if 0.0 < change < self._quantum:
            self._quantum = change
        self._prev_x = x
        # Novelty: how far each feature breaks out of its own history, in break fractions.
        self._fast += p.fast_alpha * (x - self._fast)
        self._slow += p.slow_alpha * (x - self._slow)
        ranges = self._ranges
        wv, wf, ws, wd, ww = self._weights
        novelty = ranges[0].novelty(x) * wv
        n = ranges[1].novelty(self._fast) * wf
        if n > novelty:
            novelty = n
        n = ranges[2].novelty(self._slow) * ws
        if n > novelty:
            novelty = n
        assert self._daily is not None and self._weekly is not None
        # Same-phase memories keep the Huber-clipped value, so a spike does not echo a period later.
        bound = p.memory_clip * spread
        kept = forecast + (bound if error > bound else -bound if error < -bound else error)
        before = self._daily.exchange(timestamp, kept)
        known = before == before
        self._season_d += p.season_alpha * ((x - before if known else 0.0) - self._season_d)
        if known:
            n = ranges[3].novelty(self._season_d) * wd
            if n > novelty:
                novelty = n
        before = self._weekly.exchange(timestamp, kept)
        known = before == before
        self._season_w += p.season_alpha * ((x - before if known else 0.0) - self._season_w)
        if known:
            n = ranges[4].novelty(self._season_w) * ww
            if n > novelty:
                novelty = n
        return novelty

    def _score(self, timestamp: float, value: float, x: float, base: float, scale: float) -> StepResult:
        """Score the modelled quantity ``x``; the value's range is ``base + scale · (x's range)``."""
        p = self.params
        forecast, k, spread = self._forecast(timestamp)
        half = p.range_spreads * spread
        lower, upper = base + (forecast - half) * scale, base + (forecast + half) * scale
        z = abs(x - forecast) / spread
        deviation = z - p.range_spreads if z > p.range_spreads else 0.0
        novelty = self._learn(timestamp, x, forecast, k, spread)
        if p.likelihood:
            # A second opinion: residuals unusually large *for this series* for a while.
            tail = self._likelihood.update(z / (z + p.raw_spreads))
            n = math.log(tail) / self._log_alert if tail > 0.0 else math.inf
            if p.likelihood_adds:
                novelty += n
            elif n > novelty:
                novelty = n
        if timestamp - self._first_t < p.history_seconds:
            novelty = 0.0  # too little history to know what is unprecedented
        # Novelty (in break fractions) → score in [0, 1): one break fraction = the threshold.
        scaled = novelty * self._ratio
        score = 1.0 if scaled == math.inf else scaled / (scaled + 1.0)
        if self._rest > 0:
            self._rest -= 1
            score = 0.0
        elif score >= p.threshold:
            self._rest = p.rest_points
        return score, lower, upper, deviation
