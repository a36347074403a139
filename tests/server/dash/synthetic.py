"""A small FANZ ecosystem's history as OpenMetrics, for ``promtool tsdb create-blocks-from``.

The last 26 hours, and 8 hours around the same time a week earlier (what "against last
week" compares with): enough for every page, small enough to convert in seconds.

Three platforms of different sizes (fanz-1 > fanz-2 > fanz-3) with a daily cycle and
10 % growth over the week, so "against last week" is visibly up. fanz-3 has an incident
in its last 20 minutes (5xx errors, failed payments, slow requests, users dropping).
Every name and label comes from the catalog; values are seeded, so a run is repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fanzwatch.core.catalog import business, http, rum, runtime
from fanzwatch.core.catalog.rum import VITAL_THRESHOLDS

DAY = 86400.0
WEEK = 7 * DAY
STEP = 120.0  # seconds between samples: what FanzDash is told the scrape interval is
RECENT = 26 * 3600.0
LAST_WEEK = (WEEK + 7 * 3600.0, WEEK - 3600.0)  # from, to: seconds before the end
RUM_HISTORY = 26 * 3600.0
INCIDENT = 20 * 60.0
PLATFORMS = {"fanz-1": 1.0, "fanz-2": 0.6, "fanz-3": 0.3}
INCIDENT_PLATFORM = "fanz-3"
PAGE = "/creator/:id"
VITAL_HISTOGRAMS = {
    "LCP": rum.RUM_LCP,
    "INP": rum.RUM_INP,
    "CLS": rum.RUM_CLS,
    "FCP": rum.RUM_FCP,
    "TTFB": rum.RUM_TTFB,
}
# p50 of each vital on a normal day (the p75 lands between good and poor for LCP).
VITAL_MEDIANS = {"LCP": 2.2, "INP": 0.12, "CLS": 0.06, "FCP": 1.3, "TTFB": 0.45}


@dataclass(frozen=True, slots=True)
class Grid:
    """Sample times every STEP seconds (the recent hours and last week's), and the incident mask."""

    end: float
    t: np.ndarray

    @classmethod
    def ending(cls, end: float) -> Grid:
        week_ago = np.arange(end - LAST_WEEK[0], end - LAST_WEEK[1], STEP)
        return cls(end, np.concatenate([week_ago, np.arange(end - RECENT, end + STEP / 2, STEP)]))

    def incident(self, platform: str) -> np.ndarray:
        return (self.t > self.end - INCIDENT) if platform == INCIDENT_PLATFORM else np.zeros(self.t.size, dtype=bool)

    def shape(self, scale: float) -> np.ndarray:
        """Daily cycle (peak in the evening) times growth: last week is 10 % lower."""
        daily = 1 + 0.35 * np.sin(2 * math.pi * (self.t / DAY - 0.35))
        growth = 1 + 0.1 * (self.t - self.end) / WEEK
        return scale * daily * growth


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in labels.items())


def _lines(name: str, labels: dict[str, str], t: np.ndarray, values: np.ndarray) -> Iterator[str]:
    key = _labels(labels)
    for ts, v in zip(t.tolist(), values.tolist(), strict=True):
        yield f"{name}{{{key}}} {v:.6g} {ts:.0f}"


def _counter(rng: np.random.Generator, per_second: np.ndarray) -> np.ndarray:
    """Cumulative counts of a Poisson process with the given rate per sample."""
    return np.cumsum(rng.poisson(np.maximum(per_second, 0) * STEP)).astype(np.float64)


def _lognormal_cdf(x: float, median: float, sigma: float = 0.6) -> float:
    return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2))))


def _histogram(
    name: str,
    labels: dict[str, str],
    t: np.ndarray,
    counts: np.ndarray,
    medians: np.ndarray,
    buckets: tuple[float, ...],
) -> Iterator[str]:
    """``_bucket``/``_count``/``_sum`` series for observations of a lognormal with ``medians`` per sample."""
    increments = np.diff(counts, prepend=0.0)
    for le in (*buckets, math.inf):
        share = np.array([1.0 if le == math.inf else _lognormal_cdf(le, m) for m in medians])
        cumulative = np.cumsum(np.floor(increments * share))
        yield from _lines(f"{name}_bucket", {**labels, "le": "+Inf" if le == math.inf else f"{le:g}"}, t, cumulative)
    total = np.cumsum(increments)
    yield from _lines(f"{name}_count", labels, t, total)
    yield from _lines(f"{name}_sum", labels, t, np.cumsum(increments * medians * 1.2))


def platform_lines(grid: Grid, platform: str, scale: float, seed: int) -> Iterator[str]:
    rng = np.random.default_rng(seed)
    t, shape, incident = grid.t, grid.shape(scale), grid.incident(platform)
    p = {"platform": platform}
    dur = http.HTTP_SERVER_REQUEST_DURATION
    latency = np.where(incident, 0.9, 0.06 + 0.03 * (1 - scale))
    routes = (
        ("GET", "/feed", "200", "2xx", 30.0 * shape),
        ("GET", "/feed", "404", "4xx", 0.6 * shape),
        ("GET", "/feed", "500", "5xx", np.where(incident, 9.0 * scale, 0.08 * shape)),
    )
    for method, route, code, klass, rate in routes:
        labels = {
            **p,
            "http_request_method": method,
            "http_route": route,
            "http_response_status_code": code,
            "status_class": klass,
        }
        yield from _histogram(dur.name, labels, t, _counter(rng, rate), latency, dur.buckets or ())

    regs = f"{business.USER_REGISTRATIONS.name}_total"
    for role, per_hour in (("fan", 40.0), ("creator", 6.0)):
        yield from _lines(regs, {**p, "role": role, "source": "web"}, t, _counter(rng, per_hour / 3600 * shape))

    pays, revenue = f"{business.PAYMENT_TRANSACTIONS.name}_total", f"{business.REVENUE.name}_total"
    failed = np.where(incident, 0.25, 0.02)
    for kind, per_minute, price in (("subscription", 0.6, 9.99), ("tip", 1.4, 5.0), ("ppv", 0.5, 12.0)):
        for currency, share in (("USD", 0.7), ("EUR", 0.3)):
            base = per_minute / 60 * share * shape
            labels = {**p, "payment_type": kind, "currency": currency}
            completed = _counter(rng, base * (0.96 - failed))
            yield from _lines(pays, {**labels, "status": "completed"}, t, completed)
            yield from _lines(pays, {**labels, "status": "declined"}, t, _counter(rng, base * 0.04))
            yield from _lines(pays, {**labels, "status": "failed"}, t, _counter(rng, base * failed))
            yield from _lines(revenue, labels, t, completed * price)

    users = 800.0 * shape * (1 + 0.02 * rng.standard_normal(t.size)) * np.where(incident, 0.45, 1.0)
    yield from _lines(business.ACTIVE_USERS.name, p, t, np.round(users))
    uploads = f"{business.CONTENT_UPLOADS.name}_total"
    for kind, per_hour in (("image", 30.0), ("video", 8.0), ("audio", 2.0), ("text", 5.0)):
        labels = {**p, "content_type": kind, "creator_tier": "standard"}
        yield from _lines(uploads, labels, t, _counter(rng, per_hour / 3600 * shape))

    pool = {**p, "pool_name": "main"}
    used = np.clip(np.round(6 * shape + rng.standard_normal(t.size)), 0, 20)
    yield from _lines(runtime.DB_CONNECTION_COUNT.name, {**pool, "state": "used"}, t, used)
    yield from _lines(runtime.DB_CONNECTION_COUNT.name, {**pool, "state": "idle"}, t, 20 - used)
    yield from _lines(runtime.DB_CONNECTION_MAX.name, pool, t, np.full(t.size, 20.0))
    target = {"job": "fanz-platform", "instance": f"{platform}.test:8000"}
    rss = 350e6 * (1 + 0.3 * scale) + 20e6 * rng.standard_normal(t.size)
    yield from _lines("process_resident_memory_bytes", target, t, rss)
    yield from _lines(runtime.MEMORY_LIMIT.name, target, t, np.full(t.size, 1024e6))


def rum_lines(grid: Grid, platform: str, scale: float, seed: int) -> Iterator[str]:
    rng = np.random.default_rng(seed + 1000)
    keep = grid.t >= grid.end - RUM_HISTORY
    t, shape = grid.t[keep], grid.shape(scale)[keep]
    views = _counter(rng, 0.5 * shape)
    for vital, spec in VITAL_HISTOGRAMS.items():
        medians = np.full(t.size, VITAL_MEDIANS[vital] * (1.0 + 0.4 * (1 - scale)))
        labels = {"platform": platform, "page_template": PAGE, "device_class": "mobile"}
        yield from _histogram(spec.name, labels, t, views, medians, spec.buckets or ())
    assert set(VITAL_HISTOGRAMS) == set(VITAL_THRESHOLDS)


def write_openmetrics(path: Path, end: float) -> int:
    """Write the whole history to ``path``; returns the number of samples."""
    grid = Grid.ending(end)
    families: dict[str, list[str]] = {}
    for seed, (platform, scale) in enumerate(PLATFORMS.items()):
        for line in (*platform_lines(grid, platform, scale, seed), *rum_lines(grid, platform, scale, seed)):
            name = line.split("{", 1)[0]
            family = name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
            families.setdefault(family, []).append(line)
    lines = [line for group in families.values() for line in group]
    path.write_text("\n".join(lines) + "\n# EOF\n")
    return len(lines)
