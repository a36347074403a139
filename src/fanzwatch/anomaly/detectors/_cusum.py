"""The default detector: seasonal baseline, robust hour-of-day spread, CUSUM, frozen in an episode.

Built so that people leave it switched on: a false alarm needs several points that are
each far outside what this hour of this series usually does, and a real incident is
followed until it ends instead of being re-learnt as normal.

1. **Warm-up** (the first day, at most ``warmup_points``: a whole day down to a 5 s step,
   so every hour of the cycle is seen): the step, whether the series is a counter, and a
   variance-stabilising transform chosen from how the spread grows with the level across
   the hours of that day (``_power_of``): ``log(x + c)`` when the spread is proportional to
   the level (traffic, latency: multiplicative seasonality), ``sqrt`` when it grows like its
   square root (sparse counts: Poisson), the identity when it does not grow (ratios, signed
   series). The buffer initialises the model in one batch and is replayed.
2. **Baseline** ``level + daily profile + weekly correction`` in the transformed space: the
   level an EWMA (half-life ``level_half_life``), the daily profile 15-minute bins with
   linear interpolation, the weekly correction hour-of-week bins, all learnt from
   Huber-clipped errors so an outlier moves nothing much.
3. **Spread** per hour of the day (a running MAD of the one-step error), so a quiet night
   and a busy evening each have their own yardstick, floored at the series' resolution
   and at a share of the all-day spread.
4. **Decision**: two one-sided CUSUMs of the standardised error ``z`` with reference
   ``cusum_k`` and threshold ``cusum_h``, each point's contribution capped at
   ``cusum_cap`` so one heavy-tailed point never alarms alone; a large sustained shift
   fires in two points, a small one in more, a slow drift when it has added up. A
   variance CUSUM (capped ``z²``) sees volatility bursts. A CUSUM that fires more than
   ``fire_budget`` times in a week has its threshold doubled (decaying back with a half-life
   of a week): a model that does not fit the series must not turn into an alarm stream.
   **Second opinion**: the ``seasonal`` detector (novelty + anomaly likelihood) runs beside
   it; where it alarms and the point is outside the band, an episode opens too.
   **Stuck series**: a run of unchanged values 3 times the longest seen before (12 points at
   least) opens an episode too, wherever the value is (a frozen gauge, a hung exporter).
   **Unprecedented texture** (``_texture``): the roughness, spread or rhythm of the last 72
   points moving twice as far from their usual values as ever before opens one too (denser
   spikes, a noisy series that settles or oscillates: a changed pattern at the same level).
5. **Episode**: once fired the baseline is frozen; the series stays ``active`` while it
   is outside the band learnt before (``|z| > range_spreads``), and the state ends after
   ``resolve_points`` points back inside. A shift that lasts ``max_episode_seconds`` is
   accepted as the new normal: the level jumps to the recent median and the point is
   marked ``rebaseline`` ("re-baselined"), so a level shift is one episode, not one alarm
   every twenty points and not a silent re-learn.

Scores: the evidence ``e = max(C+, C-, V) / threshold`` maps to ``e / (1 + e)`` (0.5 = the
threshold) outside an episode; the onset point scores at least the threshold and the
points after it 0 (one incident, one flag), while ``active`` says the episode goes on.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar

import numpy as np

from ._base import BatchScores, FloatArray, Progress, Score, severity_for
from ._calibrate import CalibratedThreshold
from ._seasonal import SeasonalDetector
from ._texture import TextureChange, TextureParams

_NAN = math.nan
_DAY = 86400.0
_WEEK = 7 * _DAY
_HOUR = 3600.0
_MAD_TO_SIGMA = 1.2533
_TEXTURE = TextureParams()


@dataclass(frozen=True, slots=True)
class SeasonalCusumParams:
    """The one configuration used for every series (times in seconds)."""

    warmup_seconds: float = _DAY
    warmup_points: int = 17_280
    """A day at a 5 s step. The warm-up must span the daily cycle: stopped after an hour
    (720 points at 5 s), the profile knew four of its bins and the transform could not be
    chosen, the errors were the cycle itself, and the spread and the calibrated thresholds grew
    so wide that active users falling to a fifth went unflagged at some hours of the day."""
    min_warmup_points: int = 30
    learn_seconds: float = _DAY
    """History needed before anything can alarm ("learning: N of M points" until then)."""
    level_half_life: float = 3 * _HOUR
    profile_bin_seconds: float = 900.0
    profile_rate: float = 0.05
    weekly_rate: float = 0.05
    spread_rate: float = 0.01
    huber: float = 3.0
    spread_clip: float = 8.0
    """Errors enter the running spread clipped at this many spreads: wide enough that a
    coarse series (mostly exact, sometimes a jump) cannot shrink its spread to nothing."""
    range_spreads: float = 3.0
    global_spread_share: float = 0.5
    rms_share: float = 0.5
    """The spread is at least this share of the root-mean-square error: a coarse series that
    is exact most of the time and jumps now and then keeps a yardstick of its jumps."""
    cusum_k: float = 1.5
    cusum_h: float = 7.0
    variance_k: float = 2.0
    """Reference of the volatility CUSUM, in multiples of the series' usual ``|z|``."""
    variance_h: float = 10.0
    variance_cap: float = 5.0
    abs_rate: float = 0.002
    false_alarms_per_week: float = 0.15
    """Target rate of each CUSUM's threshold crossings on normal data (see ``_calibrate``)."""
    cusum_h_max: float = 200.0
    variance_h_max: float = 60.0
    unprecedented_z: float = 20.0
    unprecedented_factor: float = 3.0
    """A single point fires when ``|z|`` is at least ``unprecedented_z`` and this many times
    the largest ``|z|`` of recent history (which halves every ``zmax_half_life``)."""
    zmax_half_life: float = 14 * _DAY
    record_step: float = 1.25
    """Below the threshold, a point scores only when its excursion's evidence grew this much."""
    novelty: bool = True
    """Take the ``seasonal`` detector's score (novelty + anomaly likelihood) as a second
    opinion: where it alarms *and* the point is outside this detector's band, an episode
    opens too. It catches what a CUSUM of a mis-modelled series cannot tell from noise (an
    unprecedented level, a broken daily pattern, a changed rhythm); the band condition keeps
    its alarms on what people are shown as unusual."""
    fire_budget: float = 1.0
    """Fires of one CUSUM in a week beyond which its threshold is raised (``fire_raise``):
    the calibration's own target is 0.15 a week, so more than one a week on one CUSUM says
    the model does not fit this series (a smooth series whose spread is underestimated, a
    non-stationary one) rather than that incidents are that frequent."""
    fire_raise: float = 2.0
    boost_max: float = 30.0
    boost_half_life: float = _WEEK
    """A raised threshold falls back towards the calibrated one with this half-life."""
    flat_points: int = 12
    """A run of this many unchanged values at least can be a stuck series (``flat_factor``)."""
    flat_factor: float = 3.0
    """A run of unchanged values alarms once it is this many times the longest run seen before
    it (and at least ``flat_points``): a series that always moved and suddenly stops (a stuck
    exporter, a frozen gauge, a flat middle of a daily wave) is a changed pattern at an
    unchanged level, which no band and no CUSUM of the error sees."""
    flat_seconds: float = 30 * 60.0
    """...and lasting this long: Prometheus repeats a series' last sample for up to 5 minutes
    (its lookback) when scrapes are late, so a short-step series repeats values on a busy host."""
    resolve_points: int = 5
    max_episode_seconds: float = 12 * _HOUR
    threshold: float = 0.5
    texture: TextureParams | None = _TEXTURE
    """The unprecedented-texture rule (``_texture``): roughness, spread or rhythm of the last
    hours changed as never before in this series opens an episode, at any level. None: off."""
    rule_evidence: float = 1.5
    """Evidence (score ``e / (1 + e)``, 0.6) of an episode opened by a categorical rule (a stuck
    series, an unprecedented texture): such a rule either holds or not, so its onset ranks
    above the weakest CUSUM onsets (evidence just over 1) rather than at the very threshold."""


class SeasonalCusumDetector:
    """Seasonal, heteroscedastic, persistence-based detector with frozen-baseline episodes.

    >>> d = SeasonalCusumDetector()
    >>> t = np.arange(0, 3 * 86400, 300.0)
    >>> b = d.score_batch(t, 100 + 10 * np.sin(2 * np.pi * t / 86400))
    >>> bool(b.is_anomaly.any())
    False
    """

    name: ClassVar[str] = "seasonal-cusum"

    def __init__(self, params: SeasonalCusumParams | None = None) -> None:
        p = self.params = params or SeasonalCusumParams()
        self.threshold = p.threshold
        self._buffer: list[tuple[float, float]] | None = []
        self._warm: tuple[float, float] | None = None
        self._warm_next = 0
        self._novelty = SeasonalDetector() if p.novelty else None
        self._novel = 0.0
        self._record = 0.0
        self._zmax = 0.0
        self._first_t = math.inf
        self._last_t = -math.inf
        self._points = 0
        self._step = 0.0
        self._counter = False
        self._prev_raw = _NAN
        self._power = 1.0
        self._c = 0.0
        self._quantum = math.inf
        self._prev_x = _NAN
        self._alpha = 0.0
        self._level = 0.0
        self._nbins = 1
        self._bin_w = _DAY
        self._daily: list[float] = []
        self._weekly = [0.0] * 168
        self._weekly_n = [0] * 168
        self._spread = [0.0] * 24
        self._global = 0.0
        self._msq = 0.0
        self._cp = 0.0
        self._cm = 0.0
        self._cv = 0.0
        self._zdecay = 1.0
        self._abs = 0.8
        self._active = False
        self._active_since = 0.0
        self._inside = 0
        self._recent: list[float] = []
        self._boost = [1.0, 1.0, 1.0]
        self._fires: list[deque[float]] = [deque(), deque(), deque()]
        self._bdecay = 1.0
        self._run = 0
        self._run_max = 0
        self._flat_fired = False
        self._run_since = 0.0
        self._texture: TextureChange | None = None
        rate = p.false_alarms_per_week
        self._hp = CalibratedThreshold(floor=p.cusum_h, ceiling=p.cusum_h_max, rate_per_week=rate)
        self._hm = CalibratedThreshold(floor=p.cusum_h, ceiling=p.cusum_h_max, rate_per_week=rate)
        self._hv = CalibratedThreshold(floor=p.variance_h, ceiling=p.variance_h_max, rate_per_week=rate)

    # -- public -----------------------------------------------------------------------

    def progress(self) -> Progress:
        """Points seen and points needed before the detector can alarm."""
        step = self._step or self._guess_step()
        need = max(self.params.min_warmup_points, math.ceil(self.params.learn_seconds / step)) if step else 0
        return Progress(self._points, need or self.params.min_warmup_points)

    def update(self, timestamp: float, value: float) -> Score:
        (score, lower, upper, deviation, _), _flags = self._step_one(float(timestamp), float(value))
        anomaly = score >= self.threshold
        return Score(
            float(timestamp),
            float(value),
            score,
            lower,
            upper,
            anomaly,
            deviation,
            severity_for(deviation) if anomaly else None,
        )

    def score_batch(self, timestamps: FloatArray, values: FloatArray) -> BatchScores:
        ts = np.asarray(timestamps, dtype=np.float64)
        vs = np.asarray(values, dtype=np.float64)
        if ts.ndim != 1 or ts.shape != vs.shape:
            raise ValueError(f"timestamps and values must be 1-D arrays of one length, got {ts.shape} and {vs.shape}")
        n = ts.size
        out = np.zeros((n, 5))
        flags = np.zeros((n, 2), dtype=np.bool_)
        step = self._step_one
        for i, (t, v) in enumerate(zip(ts.tolist(), vs.tolist(), strict=True)):
            out[i], flags[i] = step(t, v)
        scores = np.ascontiguousarray(out[:, 0])
        return BatchScores(
            timestamps=ts.copy(),
            values=vs.copy(),
            scores=scores,
            lower=np.ascontiguousarray(out[:, 1]),
            upper=np.ascontiguousarray(out[:, 2]),
            is_anomaly=scores >= self.threshold,
            deviation=np.ascontiguousarray(out[:, 3]),
            active=np.ascontiguousarray(flags[:, 0]),
            rebaseline=np.ascontiguousarray(flags[:, 1]),
        )

    # -- one point --------------------------------------------------------------------

    def _guess_step(self) -> float:
        buf = self._buffer
        if not buf or len(buf) < 2:
            return 0.0
        deltas = sorted(b[0] - a[0] for a, b in pairwise(buf))
        return deltas[len(deltas) // 2]

    def _step_one(self, t: float, v: float) -> tuple[tuple[float, float, float, float, float], tuple[bool, bool]]:
        nothing = (0.0, _NAN, _NAN, 0.0, 0.0), (False, False)
        if not (t > self._last_t) or math.isnan(v) or math.isinf(v):
            return nothing
        if self._novelty is not None:
            self._novel = self._novelty._step(t, v)[0]
        dt = t - self._last_t
        self._last_t = t
        self._points += 1
        buf = self._buffer
        if buf is not None:
            if not buf:
                self._first_t = t
            buf.append((t, v))
            p = self.params
            if len(buf) >= p.warmup_points or (
                len(buf) >= p.min_warmup_points and t - self._first_t >= p.warmup_seconds
            ):
                self._start(buf)
                return nothing
            return (0.0, *self._warm_band(buf), 0.0, 0.0), (False, False)
        if self._counter:
            prev, self._prev_raw = self._prev_raw, v
            return self._point(t, (v - prev if v >= prev else v) * self._step / dt, prev, self._step / dt)
        return self._point(t, v, 0.0, 1.0)

    def _warm_band(self, buf: list[tuple[float, float]]) -> tuple[float, float]:
        """A plain band while warming up: median ± 3 robust spreads of what was seen so far."""
        if len(buf) < self.params.min_warmup_points:
            return _NAN, _NAN
        if self._warm is None or len(buf) >= self._warm_next:  # every 10 points, every 10 % of a long buffer
            self._warm_next = len(buf) + max(10, len(buf) // 10)
            xs = np.array([v for _, v in buf])
            mid = float(np.median(xs))
            mad = float(np.median(np.abs(xs - mid))) * 1.4826
            self._warm = (mid - 3 * mad, mid + 3 * mad)
        return self._warm

    def _y(self, x: float) -> float:
        power = self._power
        if power == 1.0:
            return x
        u = x + self._c
        if u <= 0.0:
            u = 0.5 * self._c
        return math.log(u) if power == 0.0 else math.sqrt(u)

    def _x(self, y: float) -> float:
        power = self._power
        if power == 1.0:
            return y
        if power == 0.0:
            return math.exp(y) - self._c
        return (y * y if y > 0 else 0.0) - self._c

    def _start(self, buf: list[tuple[float, float]]) -> None:
        p = self.params
        self._buffer = None
        deltas = sorted(b[0] - a[0] for a, b in pairwise(buf))
        self._step = step = deltas[len(deltas) // 2]
        rises = [b[1] - a[1] for a, b in pairwise(buf)]
        self._counter = all(r >= 0 for r in rises) and sum(r > 0 for r in rises) * 2 >= len(rises)
        if self._counter:
            xs = [(b[0], (b[1] - a[1]) * step / (b[0] - a[0])) for a, b in pairwise(buf)]
            self._prev_raw = buf[-1][1]
        else:
            xs = list(buf)
        values = [x for _, x in xs]
        changes = [abs(b - a) for a, b in pairwise(values) if b != a]
        self._quantum = min(changes) if changes else math.inf
        if min(values) >= 0.0:
            self._power = _power_of([t for t, _ in xs], values)
            positive = sorted(x for x in values if x > 0)
            typical = positive[len(positive) // 2] if positive else 1.0
            q = self._quantum if self._quantum < math.inf else typical
            self._c = max(0.25 * typical, q, 1e-12) if self._power == 0.0 else max(0.375 * q, 1e-12)
        self._alpha = 1.0 - 0.5 ** (step / p.level_half_life)
        self._zdecay = 0.5 ** (step / p.zmax_half_life)
        self._bdecay = 0.5 ** (step / p.boost_half_life)
        self._nbins = max(1, min(96, round(_DAY / max(step, p.profile_bin_seconds))))
        self._bin_w = _DAY / self._nbins
        ys = np.array([self._y(x) for _, x in xs])
        tt = np.array([t for t, _ in xs])
        self._level = float(np.median(ys))
        bins = ((tt % _DAY) // self._bin_w).astype(np.int64) % self._nbins
        daily = np.zeros(self._nbins)
        for b in range(self._nbins):
            sel = ys[bins == b]
            if sel.size:
                daily[b] = float(np.median(sel)) - self._level
        self._daily = daily.tolist()
        resid = ys - self._level - daily[bins]
        diffs = np.abs(np.diff(resid))
        g = float(np.median(diffs)) / math.sqrt(2) * _MAD_TO_SIGMA if diffs.size else 0.0
        self._global = g
        self._msq = float(np.mean(resid * resid))
        self._spread = [g] * 24
        if p.texture is not None:
            mid = float(np.median(values))
            dev = np.abs(np.asarray(values) - mid)
            mad = float(np.median(dev))
            # Mostly one value (a ratio at 1 on a small platform): its scale is the mean deviation.
            self._texture = TextureChange(1e-3 * (mad if mad > 0 else float(np.mean(dev))), p.texture)
        for t, x in xs:
            self._point(t, x, 0.0, 1.0, replay=True)
        self._cp = self._cm = self._cv = 0.0
        self._active = False

    def _forecast(self, t: float) -> float:
        pos = (t % _DAY) / self._bin_w - 0.5
        lo = math.floor(pos)
        w = pos - lo
        n = self._nbins
        d = self._daily[lo % n] * (1 - w) + self._daily[(lo + 1) % n] * w
        k = int((t % _WEEK) // _HOUR) % 168
        wk = self._weekly[k] if self._weekly_n[k] else 0.0
        return self._level + d + wk

    def _sigma(self, t: float, yhat: float) -> float:
        h = int((t % _DAY) // _HOUR) % 24
        p = self.params
        s = max(self._spread[h], p.global_spread_share * self._global, p.rms_share * math.sqrt(self._msq))
        if self._quantum < math.inf:
            xhat = self._x(yhat)
            floor = 0.5 * abs(self._y(max(xhat, 0.0) + self._quantum) - self._y(max(xhat, 0.0)))
            s = max(s, floor)
        return max(s, 1e-9 * max(1.0, abs(yhat)), 1e-12)

    def _learn(self, t: float, r: float, sigma: float, change: float = 0.0) -> None:
        p = self.params
        if 0 < change < self._quantum:  # the resolution, learnt from normal points only
            self._quantum = change
        lim = p.huber * sigma
        psi = lim if r > lim else -lim if r < -lim else r
        self._level += self._alpha * psi
        pos = (t % _DAY) / self._bin_w - 0.5
        lo = math.floor(pos)
        w = pos - lo
        n = self._nbins
        self._daily[lo % n] += p.profile_rate * (1 - w) * psi
        self._daily[(lo + 1) % n] += p.profile_rate * w * psi
        k = int((t % _WEEK) // _HOUR) % 168
        self._weekly_n[k] += 1
        if t - self._first_t >= _WEEK:  # a weekly correction only once a week has been seen
            self._weekly[k] += p.weekly_rate * psi
        h = int((t % _DAY) // _HOUR) % 24
        size = min(abs(r), self.params.spread_clip * sigma) * _MAD_TO_SIGMA
        self._spread[h] += p.spread_rate * (size - self._spread[h])
        self._global += p.spread_rate / 24 * (size - self._global)
        self._msq += p.spread_rate / 24 * (r * r - self._msq)

    def _point(
        self, t: float, x: float, base: float, scale: float, *, replay: bool = False
    ) -> tuple[tuple[float, float, float, float, float], tuple[bool, bool]]:
        """Score the modelled quantity ``x``; the value's band is ``base + (x's band) / scale``."""
        p = self.params
        y = self._y(x)
        change = abs(x - self._prev_x)
        self._prev_x = x
        if change == 0.0:
            self._run += 1
        else:
            if self._run > self._run_max:
                self._run_max = self._run
            self._run = 1
            self._run_since = t
            self._flat_fired = False
        texture_changed = self._texture.update(x) if self._texture is not None else False
        yhat = self._forecast(t)
        sigma = self._sigma(t, yhat)
        r = y - yhat
        z = r / sigma
        half = p.range_spreads * sigma
        lower = base + self._x(yhat - half) / scale
        upper = base + self._x(yhat + half) / scale
        deviation = abs(z) - p.range_spreads if abs(z) > p.range_spreads else 0.0
        rebaseline = False
        score = 0.0
        if self._active:
            self._recent.append(r)
            if abs(z) <= p.range_spreads:
                self._inside += 1
                if self._inside >= p.resolve_points:
                    self._end()
            else:
                self._inside = 0
            if self._active and t - self._active_since >= p.max_episode_seconds:
                recent = sorted(self._recent[-max(3, round(_HOUR / self._step)) :])
                self._level += recent[len(recent) // 2]
                self._end()
                rebaseline = True
            active = self._active
            return (0.0, lower, upper, deviation, z), (active, rebaseline)
        # Each point adds at most half the threshold: two points can fire, one never can.
        k = p.cusum_k
        boost = self._boost
        if p.fire_budget > 0.0:
            for i in range(3):
                boost[i] = 1.0 + (boost[i] - 1.0) * self._bdecay
        cap = self._hp.h * boost[0] / 2 + k
        self._cp = max(0.0, self._cp + min(z, cap) - k)
        cap = self._hm.h * boost[1] / 2 + k
        self._cm = max(0.0, self._cm + min(-z, cap) - k)
        a = min(abs(z), p.variance_cap)
        self._abs += p.abs_rate * (a - self._abs)
        self._cv = max(0.0, self._cv + a / max(self._abs, 0.5) - p.variance_k)
        hp, hm, hv = self._hp, self._hm, self._hv
        hp.observe(t, self._cp)
        hm.observe(t, self._cm)
        hv.observe(t, self._cv)
        parts = (self._cp / (hp.h * boost[0]), self._cm / (hm.h * boost[1]), self._cv / (hv.h * boost[2]))
        evidence = max(parts)
        # One point alone fires only when it is unprecedented: far beyond every |z| of the
        # last weeks (a flat series that moves, a 30-sigma spike on a quiet one).
        size = abs(z)
        if size >= p.unprecedented_z and size >= p.unprecedented_factor * self._zmax:
            evidence = max(evidence, size / p.unprecedented_z)
        self._zmax = max(size, self._zmax * self._zdecay)
        novelty_alarm = self._novelty.threshold if self._novelty is not None else float("inf")
        if self._novel >= novelty_alarm and size > p.range_spreads:  # where the seasonal detector alarms
            novel = self._novel / (1.0 - self._novel) if self._novel < 1.0 else 1e6
            evidence = max(evidence, novel)
        if (
            p.flat_factor > 0.0
            and not self._flat_fired
            and self._run >= p.flat_points
            and self._run >= p.flat_factor * self._run_max
            and t - self._run_since >= p.flat_seconds
        ):  # a series that always moved has stopped
            self._flat_fired = True
            evidence = max(evidence, p.rule_evidence)
        if texture_changed:  # the series moves as it never did before, wherever its level
            evidence = max(evidence, p.rule_evidence)
        if replay or t - self._first_t < p.learn_seconds:
            self._learn(t, r, sigma, change)
            return (0.0, lower, upper, deviation, z), (False, False)
        # Sparse scores: a point scores only when the evidence of the current excursion
        # reaches a new high (by ``record_step``), so a threshold below the default one still
        # flags each excursion a few times, not at every point of it.
        if evidence <= 0.0:
            self._record = 0.0
        elif evidence >= self._record * p.record_step or evidence >= 1.0:
            self._record = max(evidence, self._record)
            score = evidence / (1.0 + evidence)
        if evidence < 1.0:
            self._learn(t, r, sigma, change)  # the point that opens an episode is not learnt
        else:
            self._record = 0.0
            self._active = True
            self._active_since = t
            self._inside = 0
            self._recent = [r]
            for cal in (hp, hm, hv):
                cal.close(t, fired=True)
            if p.fire_budget > 0.0 and max(parts) >= 1.0:
                i = parts.index(max(parts))
                fires = self._fires[i]
                fires.append(t)
                while fires and t - fires[0] > _WEEK:
                    fires.popleft()
                if len(fires) > p.fire_budget:
                    boost[i] = min(boost[i] * p.fire_raise, p.boost_max)
            self._cp = self._cm = self._cv = 0.0
            deviation = max(deviation, p.range_spreads * min(evidence, 2.0))
        return (score, lower, upper, deviation, z), (self._active, False)

    def _end(self) -> None:
        self._active = False
        self._inside = 0
        self._recent = []
        self._cp = self._cm = self._cv = 0.0


def _power_of(times: list[float], values: list[float]) -> float:
    """0 (log), 0.5 (sqrt) or 1 (identity): the power that makes the spread level-free.

    Per hour of the day: the median level and the median absolute change between
    neighbouring points; the slope of log spread on log level says how noise scales.
    """
    t = np.asarray(times)
    x = np.asarray(values)
    hours = ((t % _DAY) // _HOUR).astype(np.int64)
    levels, spreads = [], []
    for h in np.unique(hours):
        sel = x[hours == h]
        if sel.size < 4:
            continue
        level = float(np.median(sel))
        spread = float(np.median(np.abs(np.diff(sel))))
        if level > 0 and spread > 0:
            levels.append(math.log(level))
            spreads.append(math.log(spread))
    if len(levels) < 4 or max(levels) - min(levels) < math.log(1.5):
        return 0.0 if len(levels) >= 4 else 1.0
    slope = float(np.polyfit(levels, spreads, 1)[0])
    return 0.0 if slope > 0.75 else 0.5 if slope > 0.25 else 1.0
