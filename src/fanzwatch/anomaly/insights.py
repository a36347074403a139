"""Trend and seasonality of a series, and the guide's insight sentences, done right.

Pure functions on arrays (unix seconds, values; NaN allowed). What the guide got wrong and
what is done instead:

- Trend: a robust Theil–Sen slope, tested with the Mann–Kendall test (tie correction and
  the Hamed–Rao variance correction for autocorrelated residuals) after removing the
  seasonal profile, reported in percent per day of the series' level, so one threshold
  fits every metric (the guide used ``|slope| > 0.1`` in the metric's own units).
- Seasonality: autocorrelation at the *real* daily and weekly lags, computed from the
  series' actual step (the guide assumed 12 points an hour), compared with the
  ``z/sqrt(n)`` white-noise band, and required to be a peak (above the autocorrelation at
  half the period) so a slow drift or a weekday/weekend step is not called "daily". The
  weekly lag is judged after removing the daily profile, because every daily pattern
  also repeats after seven days.

>>> import numpy as np
>>> t = np.arange(0, 14 * 86400, 300.0)
>>> y = 100 + 20 * np.sin(2 * np.pi * t / 86400)
>>> analyze(t, y).seasonality.pattern
'daily'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]

DAY = 86400.0
WEEK = 7 * DAY
MIN_TREND_POINTS = 10
MIN_TREND_SECONDS = 2 * 86400.0
"""A trend is only estimated from at least two days: a ramp-up of minutes is not a trend."""
MAX_TREND_POINTS = 500
MAX_GRID_POINTS = 400_000
# Phase bins of a seasonal profile: at most one per 15 minutes of a day (per hour of a
# week), and never fewer than MIN_PER_BIN points in a bin, so the profile is a stable
# median and not a copy of the noise.
MAX_PROFILE_BINS = {"daily": 96, "weekly": 168}
MIN_PER_BIN = 6
# Seasons of the seasonal Kendall test: hours of the day, or hours of the week.
MAX_SEASONS = {"daily": 24, "weekly": 168}

Direction = Literal["increasing", "decreasing", "none"]


@dataclass(frozen=True, slots=True)
class Trend:
    """A robust trend estimate and whether it is statistically significant.

    ``pct_per_day`` is the slope relative to the series' level (median of absolute
    values), with ``pct_low_per_day``/``pct_high_per_day`` its confidence interval; None
    when the level is zero (a ratio sitting at 0, for instance).
    """

    slope_per_day: float
    slope_low_per_day: float
    slope_high_per_day: float
    pct_per_day: float | None
    pct_low_per_day: float | None
    pct_high_per_day: float | None
    level: float
    p_value: float
    significant: bool
    direction: Direction
    span_seconds: float
    n: int


@dataclass(frozen=True, slots=True)
class SeasonalLag:
    """Autocorrelation at one seasonal period; ``acf`` None when it cannot be judged."""

    name: Literal["daily", "weekly"]
    period_seconds: float
    lag_points: int
    acf: float | None
    band: float | None
    significant: bool
    detected: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class Seasonality:
    """Daily and weekly seasonality of a series sampled every ``step_seconds``."""

    step_seconds: float
    daily: SeasonalLag
    weekly: SeasonalLag

    @property
    def detected(self) -> bool:
        return self.daily.detected or self.weekly.detected

    @property
    def pattern(self) -> str | None:
        names = [lag.name for lag in (self.daily, self.weekly) if lag.detected]
        return " and ".join(names) if names else None

    @property
    def strength(self) -> float:
        values = [lag.acf for lag in (self.daily, self.weekly) if lag.detected and lag.acf is not None]
        return max(values, default=0.0)


@dataclass(frozen=True, slots=True)
class Analysis:
    trend: Trend | None
    seasonality: Seasonality | None
    reason: str | None = None


# --- helpers shared with ``forecast`` -------------------------------------------------


def clean(timestamps: FloatArray, values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Finite points only, sorted by time, duplicate timestamps collapsed (last wins)."""
    t = np.asarray(timestamps, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"timestamps and values must be 1-D arrays of one length, got {t.shape} and {y.shape}")
    keep = np.isfinite(t) & np.isfinite(y)
    t, y = t[keep], y[keep]
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    if t.size > 1:
        last = np.append(t[1:] != t[:-1], True)
        t, y = t[last], y[last]
    return t, y


def step_of(t: FloatArray) -> float:
    """The series' actual step: the median spacing of its timestamps."""
    if t.size < 2:
        raise ValueError("need at least two points to know the step")
    return float(np.median(np.diff(t)))


def regular_grid(t: FloatArray, y: FloatArray, step: float) -> tuple[FloatArray, FloatArray]:
    """Place points on ``t[0] + k*step``; missing points are NaN. Coarsens past MAX_GRID_POINTS."""
    span = float(t[-1] - t[0])
    while span / step + 1 > MAX_GRID_POINTS:
        step *= 2
    idx = np.rint((t - t[0]) / step).astype(np.int64)
    grid = np.full(int(idx[-1]) + 1, np.nan)
    sums = np.bincount(idx, weights=y, minlength=grid.size)
    counts = np.bincount(idx, minlength=grid.size)
    have = counts > 0
    grid[have] = sums[have] / counts[have]
    return t[0] + step * np.arange(grid.size, dtype=np.float64), grid


def bin_means(t: FloatArray, y: FloatArray, max_points: int = MAX_TREND_POINTS) -> tuple[FloatArray, FloatArray]:
    """At most ``max_points`` time bins (mean time, mean value): keeps O(n^2) tests bounded."""
    if t.size <= max_points:
        return t, y
    edges = np.linspace(t[0], t[-1], max_points + 1)
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, max_points - 1)
    counts = np.bincount(idx, minlength=max_points)
    have = counts > 0
    tb = np.bincount(idx, weights=t, minlength=max_points)[have] / counts[have]
    yb = np.bincount(idx, weights=y, minlength=max_points)[have] / counts[have]
    return tb, yb


def profile_bins(name: Literal["daily", "weekly"], lag_points: int, n_finite: int) -> int:
    """How many phase bins a profile of ``n_finite`` points over this period can afford."""
    return max(1, min(lag_points, MAX_PROFILE_BINS[name], n_finite // MIN_PER_BIN))


def phase_profile(t: FloatArray, y: FloatArray, period: float, bins: int) -> FloatArray:
    """Median of ``y`` per phase bin of ``period`` (NaN-aware); NaN for empty bins."""
    phase = phase_bins(t, period, bins)
    ok = np.isfinite(y)
    phase, vals = phase[ok], y[ok]
    profile = np.full(bins, np.nan)
    if vals.size == 0:
        return profile
    order = np.lexsort((vals, phase))
    phase, vals = phase[order], vals[order]
    starts = np.searchsorted(phase, np.arange(bins), side="left")
    ends = np.searchsorted(phase, np.arange(bins), side="right")
    for b in np.nonzero(ends > starts)[0]:
        profile[b] = np.median(vals[starts[b] : ends[b]])
    return profile


def phase_bins(t: FloatArray, period: float, bins: int) -> npt.NDArray[np.int64]:
    """Which of ``bins`` equal slices of ``period`` (UTC-aligned) each timestamp falls in."""
    return np.minimum((np.mod(t, period) / period * bins).astype(np.int64), bins - 1)


def remove_profile(t: FloatArray, y: FloatArray, period: float, bins: int) -> tuple[FloatArray, FloatArray]:
    """``y`` minus its phase profile (empty bins count as 0) and the profile itself."""
    profile = phase_profile(t, y, period, bins)
    centred = profile - np.nanmedian(profile) if np.isfinite(profile).any() else profile
    filled = np.nan_to_num(centred, nan=0.0)
    return y - filled[phase_bins(t, period, bins)], filled


def theil_sen(t: FloatArray, y: FloatArray, *, level: float = 0.95) -> tuple[float, float, float, float]:
    """(slope, intercept, low, high) per second, on at most MAX_TREND_POINTS time bins."""
    tb, yb = bin_means(t, y)
    origin = float(t[0])
    slope, intercept, low, high = stats.theilslopes(yb, tb - origin, alpha=level)
    return float(slope), float(intercept) - float(slope) * origin, float(low), float(high)


# --- trend ------------------------------------------------------------------------------


def mann_kendall(y: FloatArray, *, residuals: FloatArray | None = None, alpha: float = 0.05) -> float:
    """Two-sided p-value of the Mann–Kendall trend test, tie-corrected, Hamed–Rao corrected.

    ``residuals`` (the detrended series) drive the autocorrelation correction; the
    variance factor is never allowed below 1, which keeps the test conservative.
    """
    n = y.size
    if n < 3:
        return 1.0
    diff = y[None, :] - y[:, None]
    s = float(np.sign(diff[np.triu_indices(n, k=1)]).sum())
    _, ties = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
    if residuals is not None and n > 3:
        ranks = stats.rankdata(residuals)
        acf = _acf_all(ranks - ranks.mean())
        k = np.arange(1, n)
        band = stats.norm.ppf(1 - alpha / 2) / np.sqrt(n)
        r = acf[1:n]
        significant = np.abs(r) > band
        total = np.sum(((n - k) * (n - k - 1) * (n - k - 2) * r)[significant])
        var *= max(1.0, 1.0 + 2.0 / (n * (n - 1) * (n - 2)) * float(total))
    if var <= 0:
        return 1.0
    z = (s - np.sign(s)) / np.sqrt(var)
    return float(2 * stats.norm.sf(abs(z)))


def _acf_all(x: FloatArray) -> FloatArray:
    """Autocorrelation at every lag (biased estimator), by FFT."""
    n = x.size
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, size)
    acov = np.fft.irfft(f * np.conj(f), size)[:n]
    return acov / acov[0] if acov[0] > 0 else np.zeros(n)


def analyze_trend(
    timestamps: FloatArray,
    values: FloatArray,
    *,
    alpha: float = 0.05,
    seasonality: Seasonality | None = None,
) -> Trend | None:
    """Theil–Sen slope with a Mann–Kendall test; None with fewer than 10 points or 2 days.

    When ``seasonality`` says a daily or weekly pattern exists, the seasonal Kendall test
    and the seasonal Sen slope are used instead: a partial cycle at either end of the
    window would otherwise look like a trend.
    """
    t, y = clean(timestamps, values)
    if t.size < MIN_TREND_POINTS or t[-1] - t[0] < MIN_TREND_SECONDS:
        return None
    lag = _trend_season(seasonality)
    if lag is not None:
        seasons = min(lag.lag_points, MAX_SEASONS[lag.name])
        slope, low, high, p = seasonal_kendall(t, y, lag.period_seconds, seasons, alpha=alpha)
    else:
        slope, intercept, low, high = theil_sen(t, y, level=1 - alpha)
        tb, yb = bin_means(t, y)
        p = mann_kendall(yb, residuals=yb - (intercept + slope * tb), alpha=alpha)
    level = float(np.median(np.abs(y)))
    pct = slope * DAY / level * 100 if level > 0 else None
    pct_low = low * DAY / level * 100 if level > 0 else None
    pct_high = high * DAY / level * 100 if level > 0 else None
    significant = p < alpha and slope != 0
    direction: Direction = ("increasing" if slope > 0 else "decreasing") if significant else "none"
    return Trend(
        slope_per_day=slope * DAY,
        slope_low_per_day=low * DAY,
        slope_high_per_day=high * DAY,
        pct_per_day=pct,
        pct_low_per_day=pct_low,
        pct_high_per_day=pct_high,
        level=level,
        p_value=p,
        significant=significant,
        direction=direction,
        span_seconds=float(t[-1] - t[0]),
        n=int(t.size),
    )


def _trend_season(seasonality: Seasonality | None) -> SeasonalLag | None:
    """The period the trend test is made seasonal over: weekly if detected, else daily."""
    if seasonality is None:
        return None
    for lag in (seasonality.weekly, seasonality.daily):
        if lag.detected:
            return lag
    return None


def seasonal_kendall(
    t: FloatArray, y: FloatArray, period: float, seasons: int, *, alpha: float = 0.05
) -> tuple[float, float, float, float]:
    """Hirsch's seasonal Kendall test and seasonal Sen slope: (slope/s, low, high, p).

    Each phase bin ("season") of the period is its own series of per-cycle means, so a
    seasonal pattern never looks like a trend and short-range autocorrelation (within
    a cycle) does not inflate the test; S and its tie-corrected variance add up over seasons.
    """
    cycle = np.floor(t / period).astype(np.int64)
    cycle -= cycle.min()
    season = phase_bins(t, period, seasons)
    key = cycle * seasons + season
    uniq, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    tmean = np.bincount(inverse, weights=t) / counts
    ymean = np.bincount(inverse, weights=y) / counts
    cell_season = uniq % seasons
    s_total, var_total = 0.0, 0.0
    slopes: list[FloatArray] = []
    for s_idx in np.unique(cell_season):
        members = cell_season == s_idx
        ts, ys = tmean[members], ymean[members]
        n = ys.size
        if n < 2:
            continue
        i, j = np.triu_indices(n, k=1)
        s_total += float(np.sign(ys[j] - ys[i]).sum())
        _, ties = np.unique(ys, return_counts=True)
        var_total += (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18.0
        slopes.append((ys[j] - ys[i]) / (ts[j] - ts[i]))
    if not slopes or var_total <= 0:
        return 0.0, 0.0, 0.0, 1.0
    all_slopes = np.sort(np.concatenate(slopes))
    z = (s_total - np.sign(s_total)) / np.sqrt(var_total)
    p = float(2 * stats.norm.sf(abs(z)))
    # Sen's confidence interval: ranks (N -/+ z*sqrt(Var S)) / 2 of the sorted slopes.
    n_slopes = all_slopes.size
    c = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var_total)
    lo = int(np.clip(np.floor((n_slopes - c) / 2), 0, n_slopes - 1))
    hi = int(np.clip(np.ceil((n_slopes + c) / 2), 0, n_slopes - 1))
    return float(np.median(all_slopes)), float(all_slopes[lo]), float(all_slopes[hi]), p


# --- seasonality ------------------------------------------------------------------------


def _acf_at(x: FloatArray, lag: int) -> tuple[float, int]:
    """Autocorrelation of NaN-gapped, centred ``x`` at ``lag`` over complete pairs."""
    a, b = x[:-lag], x[lag:]
    ok = np.isfinite(a) & np.isfinite(b)
    pairs = int(ok.sum())
    finite = x[np.isfinite(x)]
    var = float(np.mean(finite**2)) if finite.size else 0.0
    if pairs < 2 or var <= 0:
        return 0.0, pairs
    return float(np.mean(a[ok] * b[ok]) / var), pairs


def _judge_lag(
    grid: FloatArray,
    step: float,
    name: Literal["daily", "weekly"],
    period: float,
    *,
    alpha: float,
    min_strength: float,
) -> SeasonalLag:
    lag = round(period / step)
    if lag < 2:
        return SeasonalLag(
            name, period, lag, None, None, False, False, f"step {step:g}s is too coarse for a {name} lag"
        )
    if grid.size < 2 * lag:
        have = grid.size * step / DAY
        need = 2 * period / DAY
        return SeasonalLag(
            name, period, lag, None, None, False, False, f"needs at least {need:g} days of data, have {have:.1f}"
        )
    x = grid - np.nanmean(grid)
    acf, pairs = _acf_at(x, lag)
    if pairs < lag // 2:
        return SeasonalLag(name, period, lag, None, None, False, False, f"too many gaps: {pairs} point pairs {name}")
    half, _ = _acf_at(x, max(1, lag // 2))
    band = float(stats.norm.ppf(1 - alpha / 2) / np.sqrt(max(pairs, 1)))
    significant = acf > band
    detected = significant and acf >= min_strength and acf - half > band
    return SeasonalLag(name, period, lag, acf, band, significant, detected, None)


def analyze_seasonality(
    timestamps: FloatArray,
    values: FloatArray,
    *,
    alpha: float = 0.05,
    min_strength: float = 0.3,
) -> Seasonality | None:
    """Daily and weekly autocorrelation at the lags of the series' real step; None under 3 points.

    ``min_strength`` is the autocorrelation a pattern needs to be reported (the guide's 0.3);
    ``significant`` alone only says it is outside the white-noise band.
    """
    t, y = clean(timestamps, values)
    if t.size < 3:
        return None
    step = step_of(t)
    if step <= 0:
        return None
    gt, grid = regular_grid(t, y, step)
    step = float(gt[1] - gt[0]) if gt.size > 1 else step
    ok = np.isfinite(grid)
    if ok.sum() >= MIN_TREND_POINTS:
        slope, intercept, _, _ = theil_sen(gt[ok], grid[ok])
        grid = grid - (intercept + slope * gt)
    daily = _judge_lag(grid, step, "daily", DAY, alpha=alpha, min_strength=min_strength)
    weekly_input = grid
    if daily.acf is not None:
        bins = profile_bins("daily", daily.lag_points, int(np.isfinite(grid).sum()))
        weekly_input, _ = remove_profile(gt, grid, DAY, bins)
    weekly = _judge_lag(weekly_input, step, "weekly", WEEK, alpha=alpha, min_strength=min_strength)
    return Seasonality(step_seconds=step, daily=daily, weekly=weekly)


def analyze(timestamps: FloatArray, values: FloatArray, *, alpha: float = 0.05, min_strength: float = 0.3) -> Analysis:
    """Seasonality first, then the trend of the deseasonalised series."""
    t, y = clean(timestamps, values)
    if t.size < MIN_TREND_POINTS:
        return Analysis(None, None, reason=f"needs at least {MIN_TREND_POINTS} points, have {t.size}")
    seasonality = analyze_seasonality(t, y, alpha=alpha, min_strength=min_strength)
    trend = analyze_trend(t, y, alpha=alpha, seasonality=seasonality)
    reason = None
    if trend is None:
        have = (t[-1] - t[0]) / DAY
        reason = f"no trend: needs at least {MIN_TREND_SECONDS / DAY:g} days of data, have {have:.1f}"
    return Analysis(trend, seasonality, reason=reason)


# --- sentences ----------------------------------------------------------------------------


def human_duration(seconds: float) -> str:
    """``7 days``, ``36 hours``, ``45 minutes``: how the sentences say a span."""
    if seconds >= 2 * DAY:
        days = seconds / DAY
        return f"{days:.0f} days" if abs(days - round(days)) < 0.05 else f"{days:.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


_LAG_TEXT = {"daily": "1-day", "weekly": "7-day"}


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def insight_sentences(name: str, analysis: Analysis, *, min_pct_per_day: float = 0.5) -> list[str]:
    """The guide's two sentences, said only when true.

    A trend is reported when it is significant and at least ``min_pct_per_day`` of the
    level per day (or, for a series at level zero, significant at all); a seasonal pattern
    when its autocorrelation is significant, strong enough and a peak.
    """
    out: list[str] = []
    trend, seasonality = analysis.trend, analysis.seasonality
    if trend is not None and trend.significant:
        if trend.pct_per_day is not None and abs(trend.pct_per_day) >= min_pct_per_day:
            rate = f"{trend.pct_per_day:+.1f}% per day"
            if trend.pct_low_per_day is not None and trend.pct_high_per_day is not None:
                rate += f", 95% CI {trend.pct_low_per_day:+.1f}% to {trend.pct_high_per_day:+.1f}%"
        elif trend.pct_per_day is None:
            rate = f"{trend.slope_per_day:+.3g} per day"
        else:
            rate = None
        if rate is not None:
            span = human_duration(trend.span_seconds)
            article = "an" if trend.direction == "increasing" else "a"
            p_text = _p_text(trend.p_value)
            out.append(f"{name} shows {article} {trend.direction} trend over the last {span} ({rate}, {p_text})")
    if seasonality is not None and seasonality.detected:
        lags = [lag for lag in (seasonality.daily, seasonality.weekly) if lag.detected]
        detail = ", ".join(f"autocorrelation {lag.acf:.2f} at the {_LAG_TEXT[lag.name]} lag" for lag in lags)
        out.append(f"{name} exhibits a {seasonality.pattern} seasonal pattern ({detail})")
    return out
