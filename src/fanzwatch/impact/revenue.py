"""Expected revenue per minute from the seasonal forecast, and what an incident window lacked.

Each revenue series (platform × stream × currency, ``fanz_revenue_total``) is read per
step (``increase`` over the step: revenue per bucket) over ``history_days`` before the
window and over the window itself. The forecast (the anomaly engine's: trend plus daily or
hour-of-week profile, empirical interval) is fitted on the history *before* the window
only, so an outage never teaches the baseline that no revenue is normal. A missing point
in the window is no revenue (a platform that is down records nothing).

The interval of a total adds the per-bucket interval edges: the bound for forecast errors
that move together (wider than independent errors would give; not a guaranteed coverage,
as quantiles do not add exactly).

>>> estimate = await RevenueEstimator(reader, forecast, settings).estimate(("fanz-1",), start, end)
>>> estimate.streams[0].at_risk
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import anyio.to_thread
import numpy as np

from ..core.catalog.business import REVENUE
from ..core.impact import Forecaster, ForecastLike, RangeReader, RangeSeriesLike
from ..settings.impact import ImpactSettings

MAX_FORECAST_POINTS = 1440
"""Forecast points per series at most; longer windows are interpolated between them."""
HORIZON_QUANTUM = 3600.0
"""Forecasts reach to the next whole hour of the window and are kept: the history before an
incident does not change, so a round within that hour reuses them instead of refitting."""
CACHE_ENTRIES = 2048
HISTORY_ENTRIES = 64
"""Incidents whose history is kept at most (27 series × 14 days at 1 min: ~6.5 MB each, values as
float32); the tracker drops those of incidents it no longer prices (``retain``)."""


def platform_selector(platforms: Sequence[str]) -> str:
    """``platform=~"a|b"``: the platform label values are validated slugs (no regex characters)."""
    return 'platform=~"' + "|".join(sorted(set(platforms))) + '"'


def revenue_expr(platforms: Sequence[str], step_seconds: float) -> str:
    """Revenue per step bucket, one series per platform, stream and currency."""
    return (
        f"sum by (platform, payment_type, currency) "
        f"(increase({REVENUE.name}_total{{{platform_selector(platforms)}}}[{int(step_seconds)}s]))"
    )


@dataclass(frozen=True, slots=True)
class Totals:
    """Expected (with its interval) and actual revenue over a span, in one currency."""

    expected: float = 0.0
    lower: float = 0.0
    upper: float = 0.0
    actual: float = 0.0

    @property
    def at_risk(self) -> float:
        return self.expected - self.actual

    @property
    def at_risk_lower(self) -> float:
        return self.lower - self.actual

    @property
    def at_risk_upper(self) -> float:
        return self.upper - self.actual

    def scaled(self, factor: float) -> Totals:
        return Totals(self.expected * factor, self.lower * factor, self.upper * factor, self.actual * factor)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.expected + other.expected,
            self.lower + other.lower,
            self.upper + other.upper,
            self.actual + other.actual,
        )


@dataclass(frozen=True, slots=True)
class StreamRevenue:
    """One revenue series over the incident window (and the settling span after it)."""

    platform: str
    stream: str
    currency: str
    window: Totals
    recent: Totals
    """The last ``priority_window_minutes`` of the window (money-driven priority judges these)."""
    after: Totals
    """The settling span after resolution (empty while open)."""
    minutes: float
    baseline: str | None = None
    """None when forecast; else why not (the series then counts its actual revenue only)."""
    points: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)
    """Per bucket of the window: (bucket ends, expected, lower, upper, actual); for the chart."""

    @property
    def below_band(self) -> bool:
        """Recent revenue below the forecast interval's lower edge (and some revenue was expected)."""
        return self.baseline is None and self.recent.expected > 0 and self.recent.actual < self.recent.lower


@dataclass(frozen=True, slots=True)
class RevenueEstimate:
    start: float
    end: float
    settle_end: float | None
    level: float
    streams: tuple[StreamRevenue, ...]


def _key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _points(series: RangeSeriesLike, *, after: float) -> dict[float, float]:
    """The finite points after ``after``, by timestamp."""
    ts = np.asarray(series.timestamps, dtype=np.float64)
    vs = np.asarray(series.values, dtype=np.float64)
    keep = (ts > after) & np.isfinite(vs)
    return dict(zip(ts[keep].tolist(), vs[keep].tolist(), strict=True))


def _grid(start: float, end: float, step: float) -> np.ndarray:
    """Bucket ends in ``(start, end]`` on the ``k * step`` grid."""
    first = math.floor(start / step) * step + step
    if first > end:
        return np.empty(0)
    return np.arange(first, end + step / 2, step)


class RevenueEstimator:
    """Reads revenue series through ``reader`` and forecasts each with ``forecaster``."""

    def __init__(self, reader: RangeReader, forecaster: Forecaster, settings: ImpactSettings) -> None:
        self._reader = reader
        self._forecast = forecaster
        self._settings = settings
        self._cache: OrderedDict[tuple[object, ...], ForecastLike] = OrderedDict()
        self._history: OrderedDict[tuple[object, ...], dict[tuple[tuple[str, str], ...], tuple[np.ndarray, np.ndarray]]]
        self._history = OrderedDict()

    def retain(self, keep: set[tuple[tuple[str, ...], float]]) -> None:
        """Drop the histories of incidents not in ``keep`` (platforms, start); their forecasts age out
        of the forecast cache (``CACHE_ENTRIES``)."""
        wanted = {(tuple(sorted(set(p))), start) for p, start in keep}
        for key in [k for k in self._history if k not in wanted]:
            del self._history[key]

    async def estimate(
        self, platforms: Sequence[str], start: float, end: float, *, settle_end: float | None = None
    ) -> RevenueEstimate:
        """Revenue of ``platforms`` in ``(start, end]``, and in ``(end, settle_end]`` when given.

        The history before ``start`` is read once per incident and kept (it does not change):
        later rounds read only the window.
        """
        s = self._settings
        step = s.step_seconds
        last = math.floor((settle_end if settle_end is not None else end) / step) * step
        key = (tuple(sorted(set(platforms))), start)
        expr = revenue_expr(platforms, step)
        history = self._history.get(key)
        if history is None:
            history_start = math.floor((start - s.history_days * 86400) / step) * step
            series = await self._reader.query_range(expr, history_start, last, step)
            history = {}
            for x in series:
                ts, vs = np.asarray(x.timestamps, dtype=np.float64), np.asarray(x.values, dtype=np.float64)
                before = (ts <= start) & np.isfinite(vs)
                history[_key(x.labels)] = (ts[before], vs[before].astype(np.float32))
            self._history[key] = history
            while len(self._history) > HISTORY_ENTRIES:
                self._history.popitem(last=False)
        else:
            self._history.move_to_end(key)
            first = math.floor(start / step) * step + step
            series = await self._reader.query_range(expr, first, max(first, last), step) if last >= first else []
        window = {_key(x.labels): _points(x, after=start) for x in series}
        labels = sorted(set(history) | set(window))
        empty = (np.empty(0), np.empty(0))

        def work() -> list[StreamRevenue]:  # CPU work (tens of ms per series): off the event loop
            return [
                self._stream(dict(k), *history.get(k, empty), window.get(k, {}), start, end, settle_end) for k in labels
            ]

        streams = await anyio.to_thread.run_sync(work)
        streams.sort(key=lambda r: (-r.window.at_risk, r.platform, r.stream, r.currency))
        return RevenueEstimate(start, end, settle_end, s.level, tuple(streams))

    def _stream(
        self,
        labels: Mapping[str, str],
        hist_t: np.ndarray,
        hist_v: np.ndarray,
        points: Mapping[float, float],
        start: float,
        end: float,
        settle_end: float | None,
    ) -> StreamRevenue:
        s = self._settings
        step = s.step_seconds
        window_t = _grid(start, end, step)
        after_t = _grid(end, settle_end, step) if settle_end is not None else np.empty(0)
        all_t = np.concatenate([window_t, after_t])
        actual = np.array([points.get(float(t), 0.0) for t in all_t], dtype=np.float64)
        baseline: str | None = None
        mean = lower = upper = actual
        if all_t.size and hist_t.size:
            needed = max(float(all_t[-1] - hist_t[-1]), step)
            horizon = math.ceil(needed / HORIZON_QUANTUM) * HORIZON_QUANTUM
            key = (tuple(sorted(labels.items())), float(hist_t[0]), float(hist_t[-1]), hist_t.size, horizon)
            fc = self._cache.get(key)
            # The whole hour when the history allows it (kept for the next rounds), else just what is needed.
            for ahead in (horizon, needed) if fc is None else ():
                try:
                    fc = self._forecast(
                        hist_t,
                        hist_v,
                        horizon_seconds=ahead,
                        level=s.level,
                        max_points=int(min(MAX_FORECAST_POINTS, max(1, round(ahead / step)))),
                        seasonality=s.seasonality,
                    )
                    key = (*key[:-1], ahead)
                    break
                except ValueError as exc:  # too little history for this window
                    baseline = str(exc)
            if fc is not None:
                baseline = None
                self._cache[key] = fc
                self._cache.move_to_end(key)
                while len(self._cache) > CACHE_ENTRIES:
                    self._cache.popitem(last=False)
                fts = np.asarray(fc.timestamps, dtype=np.float64)
                mean = np.maximum(np.interp(all_t, fts, np.asarray(fc.mean, dtype=np.float64)), 0.0)
                lower = np.maximum(np.interp(all_t, fts, np.asarray(fc.lower, dtype=np.float64)), 0.0)
                upper = np.maximum(np.interp(all_t, fts, np.asarray(fc.upper, dtype=np.float64)), 0.0)
        elif all_t.size:
            baseline = "no history before the incident: nothing to forecast from"
        n = window_t.size
        recent = slice(max(0, n - s.priority_window_minutes * 60 // int(step)), n)

        def totals(part: slice) -> Totals:
            return Totals(
                float(mean[part].sum()), float(lower[part].sum()), float(upper[part].sum()), float(actual[part].sum())
            )

        return StreamRevenue(
            platform=labels.get("platform", ""),
            stream=labels.get("payment_type", ""),
            currency=labels.get("currency", ""),
            window=totals(slice(0, n)),
            recent=totals(recent),
            after=totals(slice(n, all_t.size)),
            minutes=n * step / 60,
            baseline=baseline,
            points=(window_t, mean[:n], lower[:n], upper[:n], actual[:n]),
        )
