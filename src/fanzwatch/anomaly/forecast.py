"""Forecasts with prediction intervals, and the time until a threshold is crossed.

The model is deliberately simple and explainable (what an SRE would draw by hand):

    value(t) = level + slope * t + seasonal profile(phase of t) + current offset

- The slope is a robust Theil–Sen slope; the profile is the median per phase bin of the
  detected daily or weekly period (none when the series has no significant seasonality);
  both are refined alternately so a partial cycle does not tilt the slope.
- The "current offset" is the mean residual of the last hour. It is used only when it
  makes the model's own past forecasts better (a level shift persists; white noise does
  not), decided on the series itself.
- Intervals are empirical: for each horizon ``h`` the quantiles of the errors the same
  procedure made ``h`` ahead at every past origin of the series, widened by the slope's
  confidence interval times the horizon. They are calibrated on the series' own residual
  behaviour, so autocorrelated noise gives intervals that widen with the horizon.

``time_to_threshold`` reads the crossing of the forecast and of both interval edges:
the central estimate and an interval for when a disk fills, a DB pool is exhausted or a
memory limit is hit, or "not within the horizon".

>>> import numpy as np
>>> t = np.arange(0, 3 * 86400, 300.0)
>>> ttt = time_to_threshold(t, 50 + t / 3600, 150, horizon_seconds=7 * 86400)
>>> round(ttt.eta_seconds / 3600)
28
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .insights import (
    DAY,
    FloatArray,
    analyze_seasonality,
    clean,
    human_duration,
    phase_bins,
    phase_profile,
    profile_bins,
    regular_grid,
    step_of,
    theil_sen,
)

SeasonalityChoice = Literal["auto", "none", "daily", "weekly"]
MIN_POINTS = 10
HORIZON_SHARE = 0.5
"""A forecast reaches at most this share of its history ahead (12 points do not make a day)."""


class ForecastHorizonError(ValueError):
    """The horizon asked for is longer than the history can support."""

    def __init__(self, horizon: float, span: float) -> None:
        super().__init__(
            f"a forecast reaches at most half its history ahead: {human_duration(span)} of data allow "
            f"{human_duration(HORIZON_SHARE * span)}, asked for {human_duration(horizon)}; "
            "use a longer history or a shorter horizon"
        )
        self.horizon = horizon
        self.span = span


MIN_ERRORS = 20
_PERIODS: dict[str, float] = {"daily": DAY, "weekly": 7 * DAY}


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast values and a ``level`` prediction interval at ``timestamps``."""

    timestamps: FloatArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    level: float
    step_seconds: float
    period: Literal["daily", "weekly"] | None
    slope_per_day: float
    anchored: bool
    last_timestamp: float
    last_fitted: float


@dataclass(frozen=True, slots=True)
class ThresholdCrossing:
    """When a series is forecast to cross ``threshold``, in seconds from its last point.

    ``eta_seconds`` follows the forecast; ``earliest``/``latest`` follow the interval edges
    (``latest`` None: the optimistic edge does not cross within the horizon). All None
    when even the pessimistic edge stays on the safe side.
    """

    threshold: float
    direction: Literal["rising", "falling"]
    current: float
    already_crossed: bool
    eta_seconds: float | None
    earliest_seconds: float | None
    latest_seconds: float | None
    horizon_seconds: float
    level: float

    @property
    def within_horizon(self) -> bool:
        return self.eta_seconds is not None

    def describe(self, name: str) -> str:
        verb = "rise above" if self.direction == "rising" else "fall below"
        if self.already_crossed:
            return f"{name} has already crossed {self.threshold:g} (now {self.current:.4g})"
        if self.eta_seconds is None:
            worst = self.earliest_seconds
            tail = f"; at worst in {human_duration(worst)}" if worst is not None else ""
            within = human_duration(self.horizon_seconds)
            return f"{name} is not forecast to {verb} {self.threshold:g} within {within}{tail}"
        early = human_duration(self.earliest_seconds) if self.earliest_seconds is not None else "now"
        late = human_duration(self.latest_seconds) if self.latest_seconds is not None else "beyond the horizon"
        return (
            f"{name} is forecast to {verb} {self.threshold:g} in about {human_duration(self.eta_seconds)} "
            f"({self.level:.0%} interval: {early} to {late})"
        )


@dataclass(frozen=True, slots=True)
class _Model:
    intercept: float
    slope: float
    slope_low: float
    slope_high: float
    period: float | None
    bins: int
    profile: FloatArray

    def fitted(self, t: FloatArray) -> FloatArray:
        base = self.intercept + self.slope * t
        if self.period is None:
            return base
        return base + self.profile[phase_bins(t, self.period, self.bins)]


def _choose_period(t: FloatArray, y: FloatArray, choice: SeasonalityChoice) -> Literal["daily", "weekly"] | None:
    if choice == "none":
        return None
    if choice != "auto":
        return choice
    seasonality = analyze_seasonality(t, y)
    if seasonality is None:
        return None
    if seasonality.weekly.detected:
        return "weekly"
    return "daily" if seasonality.daily.detected else None


def _fit(t: FloatArray, y: FloatArray, period_name: Literal["daily", "weekly"] | None, level: float) -> _Model:
    """Trend and seasonal profile, refined alternately (each biases the other)."""
    period = _PERIODS[period_name] if period_name else None
    step = step_of(t)
    bins = profile_bins(period_name, round(period / step), t.size) if period_name and period else 1
    profile = np.zeros(bins)
    seasonal = np.zeros_like(y)
    rounds = 3 if period else 1
    for _ in range(rounds):
        slope, intercept, low, high = theil_sen(t, y - seasonal, level=level)
        if period is None:
            break
        profile = np.nan_to_num(phase_profile(t, y - (intercept + slope * t), period, bins), nan=0.0)
        seasonal = profile[phase_bins(t, period, bins)]
    return _Model(intercept, slope, low, high, period, bins, profile)


def _rolling_mean(e: FloatArray, m: int) -> FloatArray:
    """Mean of the finite values among ``e[i-m+1..i]`` (NaN when none), for every ``i``."""
    ok = np.isfinite(e)
    sums = np.cumsum(np.where(ok, e, 0.0))
    counts = np.cumsum(ok.astype(np.float64))
    sums[m:] = sums[m:] - sums[:-m]
    counts[m:] = counts[m:] - counts[:-m]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _errors_at(resid: FloatArray, anchor: FloatArray | None, h: int) -> FloatArray:
    """What the procedure got wrong ``h`` grid steps ahead, at every past origin."""
    if h >= resid.size:
        return np.empty(0)
    future = resid[h:]
    guess = anchor[:-h] if anchor is not None else np.zeros(future.size)
    d = future - guess
    return d[np.isfinite(d)]


def forecast(
    timestamps: FloatArray,
    values: FloatArray,
    *,
    horizon_seconds: float,
    level: float = 0.9,
    max_points: int = 200,
    seasonality: SeasonalityChoice = "auto",
) -> Forecast:
    """Forecast the next ``horizon_seconds`` with a ``level`` prediction interval.

    Raises ``ValueError`` with fewer than 10 finite points or a bad argument, and
    ``ForecastHorizonError`` when the horizon exceeds half the history's span.
    """
    if not 0.5 <= level < 1:
        raise ValueError(f"level must be in [0.5, 1), got {level}")
    if not horizon_seconds > 0:
        raise ValueError(f"horizon_seconds must be positive, got {horizon_seconds}")
    t, y = clean(timestamps, values)
    if t.size < MIN_POINTS:
        raise ValueError(f"a forecast needs at least {MIN_POINTS} points, have {t.size}")
    span = float(t[-1] - t[0])
    if horizon_seconds > HORIZON_SHARE * span:
        raise ForecastHorizonError(horizon_seconds, span)
    step = step_of(t)
    period_name = _choose_period(t, y, seasonality)
    model = _fit(t, y, period_name, level)
    grid_t, grid_y = regular_grid(t, y, step)
    grid_step = float(grid_t[1] - grid_t[0])
    resid = grid_y - model.fitted(grid_t)

    window = int(min(max(3, round(3600 / grid_step)), max(1, resid.size // 4)))
    anchor_series = _rolling_mean(resid, window)
    out_step = max(grid_step, horizon_seconds / max_points)
    k = np.arange(1, int(np.ceil(horizon_seconds / out_step)) + 1)
    h_steps = np.maximum(1, np.rint(k * out_step / grid_step).astype(np.int64))

    probe = int(h_steps[len(h_steps) // 2])
    anchored = _anchor_helps(resid, anchor_series, probe)
    anchor = anchor_series if anchored else None
    current_offset = float(anchor_series[-1]) if anchored and np.isfinite(anchor_series[-1]) else 0.0

    alpha = 1 - level
    q = np.full((k.size, 2), np.nan)
    usable = 0
    for i, h in enumerate(h_steps):
        d = _errors_at(resid, anchor, int(h))
        if d.size >= MIN_ERRORS:
            q[i] = np.quantile(d, [alpha / 2, 1 - alpha / 2])
            usable = i + 1
    if usable == 0:
        spread = np.nanquantile(resid, [alpha / 2, 1 - alpha / 2]) if np.isfinite(resid).any() else np.zeros(2)
        q[:] = spread
        usable = 1
    # Beyond the longest horizon the history can check, widen like a random walk would.
    if usable < k.size:
        scale = np.sqrt(h_steps[usable:] / h_steps[usable - 1])
        q[usable:] = q[usable - 1] * scale[:, None]

    t_out = t[-1] + k * out_step
    ahead = t_out - t[-1]
    mean = model.fitted(t_out) + current_offset
    lower = mean + q[:, 0] - max(0.0, model.slope - model.slope_low) * ahead
    upper = mean + q[:, 1] + max(0.0, model.slope_high - model.slope) * ahead
    return Forecast(
        timestamps=t_out,
        mean=mean,
        lower=np.minimum(lower, mean),
        upper=np.maximum(upper, mean),
        level=level,
        step_seconds=out_step,
        period=period_name,
        slope_per_day=model.slope * DAY,
        anchored=anchored,
        last_timestamp=float(t[-1]),
        last_fitted=float(model.fitted(t[-1:])[0] + current_offset),
    )


def _anchor_helps(resid: FloatArray, anchor: FloatArray, h: int) -> bool:
    """Does carrying the recent offset forward beat assuming it is gone, ``h`` steps ahead?"""
    with_anchor = _errors_at(resid, anchor, h)
    without = _errors_at(resid, None, h)
    if with_anchor.size < MIN_ERRORS or without.size < MIN_ERRORS:
        return False
    return float(np.mean(np.abs(with_anchor))) < float(np.mean(np.abs(without)))


def _first_crossing(times: FloatArray, curve: FloatArray, start: float, threshold: float, rising: bool) -> float | None:
    """Seconds from the last point until ``curve`` first reaches ``threshold`` (interpolated)."""
    xs = np.concatenate([[0.0], times])
    ys = np.concatenate([[start], curve])
    hit = ys >= threshold if rising else ys <= threshold
    idx = np.flatnonzero(hit)
    if idx.size == 0:
        return None
    i = int(idx[0])
    if i == 0:
        return 0.0
    y0, y1 = ys[i - 1], ys[i]
    frac = (threshold - y0) / (y1 - y0) if y1 != y0 else 1.0
    return float(xs[i - 1] + frac * (xs[i] - xs[i - 1]))


def time_to_threshold(
    timestamps: FloatArray,
    values: FloatArray,
    threshold: float,
    *,
    horizon_seconds: float,
    level: float = 0.9,
    direction: Literal["rising", "falling"] | None = None,
    seasonality: SeasonalityChoice = "auto",
) -> ThresholdCrossing:
    """When the series crosses ``threshold`` (disk full, pool exhausted, memory limit).

    ``direction`` defaults to "rising" when the threshold is above the current level. The
    horizon is cut to half the history's span (``horizon_seconds`` of the answer says so).
    """
    t_clean, _ = clean(timestamps, values)
    if t_clean.size >= 2:  # never further ahead than the history supports (half its span)
        horizon_seconds = min(horizon_seconds, HORIZON_SHARE * float(t_clean[-1] - t_clean[0]))
    fc = forecast(
        timestamps, values, horizon_seconds=horizon_seconds, level=level, max_points=1000, seasonality=seasonality
    )
    current = fc.last_fitted
    rising = (threshold >= current) if direction is None else direction == "rising"
    _, y = clean(timestamps, values)
    last = float(y[-1])
    crossed = last >= threshold if rising else last <= threshold
    ahead = fc.timestamps - fc.last_timestamp
    pessimistic = fc.upper if rising else fc.lower
    optimistic = fc.lower if rising else fc.upper
    eta = 0.0 if crossed else _first_crossing(ahead, fc.mean, current, threshold, rising)
    earliest = 0.0 if crossed else _first_crossing(ahead, pessimistic, current, threshold, rising)
    latest = 0.0 if crossed else _first_crossing(ahead, optimistic, current, threshold, rising)
    return ThresholdCrossing(
        threshold=threshold,
        direction="rising" if rising else "falling",
        current=last,
        already_crossed=crossed,
        eta_seconds=eta,
        earliest_seconds=earliest,
        latest_seconds=latest,
        horizon_seconds=horizon_seconds,
        level=level,
    )
