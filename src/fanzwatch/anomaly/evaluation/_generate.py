"""A seeded evaluation set of creator-platform metrics with labelled incidents.

Each platform has a size, a peak hour, a weekend factor and a growth rate; its activity is
a daily shape (two harmonics, in log space) times a weekly factor times a day-to-day
"mood" (an AR(1) per day, interpolated) times an hour-scale wiggle (AR(1) per point). The
six watched signals are drawn from that activity with the noise each kind really has:

| kind | drawn as | noise |
|---|---|---|
| ``request_rate`` | Poisson count per step / step | Poisson + wiggle |
| ``latency_p95`` | base · load factor · exp(ε), ε ~ t(4) | log-sd grows as the request count falls (heavy tail) |
| ``error_ratio`` | Binomial(requests, p) / requests | p drifts slowly; 0 and NaN at low traffic |
| ``registrations`` | Poisson count per step / step | sparse: near zero at night on small platforms |
| ``payment_success_ratio`` | beta-binomial successes / attempts | NaN without attempts, coarse on small platforms |
| ``active_users`` | Poisson around users ∝ activity^0.9 | Poisson + wiggle |

Incidents (``Incident``) change the *expected* value of one series over ``[start, end]``
with one of several shapes (spike, drop, outage, level shift, drift, variance burst,
payment-success fall, latency step); noise is then drawn around the changed expectation.
An incident is only kept where an oracle that knows the true baseline would see it:
the signal-to-noise ratio over its first hour, ``sqrt(Σ ((changed - baseline) / sd)²)``,
must reach ``MIN_SNR`` (a registration outage at 4 am on a platform with one sign-up an
hour is not an incident anyone can detect from the metric). Magnitudes are drawn from
ranges an operator would want to hear about; nothing is tuned to any detector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

DAY = 86400.0
WEEK = 7 * DAY
START = 1_704_067_200.0  # Monday 2024-01-01 00:00 UTC
STEP = 300.0
MIN_SNR = 8.0

KINDS: tuple[str, ...] = (
    "request_rate",
    "latency_p95",
    "error_ratio",
    "registrations",
    "payment_success_ratio",
    "active_users",
)


@dataclass(frozen=True, slots=True)
class Incident:
    """One labelled incident of one series: what changed, from ``start`` to ``end`` (unix s)."""

    series: str
    shape: str
    start: float
    end: float
    magnitude: float


@dataclass(frozen=True, slots=True)
class EvalSeries:
    """One series of the evaluation set."""

    name: str
    kind: str
    platform: str
    timestamps: FloatArray
    values: FloatArray
    expected: FloatArray
    """The noise-free expectation with incidents (for forecast coverage and the oracle)."""
    baseline: FloatArray
    """The noise-free expectation without incidents."""
    incidents: tuple[Incident, ...]


@dataclass(frozen=True, slots=True)
class EvalSet:
    """Series over ``days`` at ``step``; the first ``learn_days`` are history, never scored."""

    seed: int
    step: float
    days: int
    learn_days: int
    series: tuple[EvalSeries, ...] = field(default_factory=tuple)

    @property
    def scored_from(self) -> float:
        return START + self.learn_days * DAY

    @property
    def incidents(self) -> tuple[Incident, ...]:
        return tuple(i for s in self.series for i in s.incidents)


@dataclass(frozen=True, slots=True)
class _Platform:
    name: str
    size: float
    peak_hour: float
    second_harmonic: float
    depth: float
    weekend: float
    growth_per_week: float


def _platforms(rng: np.random.Generator, n: int) -> list[_Platform]:
    sizes = np.geomspace(3.0, 0.05, n)
    rng.shuffle(sizes)
    return [
        _Platform(
            name=f"fanz-{i + 1}",
            size=float(sizes[i]),
            peak_hour=float(rng.uniform(18.0, 23.0)),
            second_harmonic=float(rng.uniform(0.05, 0.25)),
            depth=float(rng.uniform(0.55, 0.95)),
            weekend=float(rng.uniform(0.8, 1.25)),
            growth_per_week=float(rng.uniform(-0.01, 0.03)),
        )
        for i in range(n)
    ]


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> FloatArray:
    """A stationary AR(1) path with marginal standard deviation ``sd``."""
    eps = rng.standard_normal(n) * sd * math.sqrt(1 - phi * phi)
    out = np.empty(n)
    out[0] = rng.standard_normal() * sd
    for i in range(1, n):
        out[i] = phi * out[i - 1] + eps[i]
    return out


def _activity(p: _Platform, t: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Relative activity (peak ≈ 1) with daily shape, weekend, growth, mood and wiggle."""
    hour = (t % DAY) / 3600.0
    theta = 2 * np.pi * (hour - p.peak_hour) / 24.0
    shape = p.depth * np.cos(theta) + p.second_harmonic * np.cos(2 * theta + 1.0)
    weekday = ((t - START) // DAY).astype(np.int64) % 7
    weekly = np.where(weekday >= 5, p.weekend, 1.0)
    days = math.ceil((t[-1] - t[0]) / DAY) + 2
    mood_days = _ar1(rng, days, 0.6, 0.06)
    day_pos = (t - t[0]) / DAY
    mood = np.interp(day_pos, np.arange(days) - 0.5, mood_days)
    wiggle = _ar1(rng, t.size, 0.97, 0.03)
    growth = p.growth_per_week * (t - t[0]) / WEEK
    out: FloatArray = np.exp(shape - p.depth - p.second_harmonic + mood + wiggle) * weekly * (1 + growth)
    return out


# --- incidents -------------------------------------------------------------------------

# (shape, weight) per kind; magnitudes are drawn in ``_draw_incident``.
_SHAPES: dict[str, tuple[tuple[str, float], ...]] = {
    "request_rate": (("spike", 1), ("drop", 1), ("outage", 1), ("level_shift", 1), ("drift", 0.5)),
    "latency_p95": (("latency_step", 1.5), ("spike", 1), ("drift", 1), ("variance", 1), ("level_shift", 0.5)),
    "error_ratio": (("burst", 1.5), ("drift", 1), ("level_shift", 1)),
    "registrations": (("outage", 1), ("spike", 1), ("drop", 1)),
    "payment_success_ratio": (("payment_fall", 1.5), ("drift", 1), ("outage", 0.5)),
    "active_users": (("drop", 1), ("spike", 1), ("level_shift", 1), ("drift", 0.5)),
}


@dataclass(frozen=True, slots=True)
class _Change:
    shape: str
    duration: float
    magnitude: float
    ramp: float = 0.0


def _draw_incident(kind: str, rng: np.random.Generator) -> _Change:
    shapes, weights = zip(*_SHAPES[kind], strict=True)
    w = np.asarray(weights, dtype=np.float64)
    shape = str(shapes[int(rng.choice(len(shapes), p=w / w.sum()))])
    minutes = 60.0
    u = rng.uniform
    if shape == "spike":
        mag = u(2.5, 6.0) if kind != "latency_p95" else u(4.0, 15.0)
        return _Change(shape, u(10, 30) * minutes, mag)
    if shape == "drop":
        return _Change(shape, u(30, 180) * minutes, u(0.15, 0.55))
    if shape == "outage":
        if kind == "payment_success_ratio":
            return _Change(shape, u(10, 60) * minutes, u(0.0, 0.1))
        return _Change(shape, u(15, 90) * minutes, u(0.0, 0.05))
    if shape == "level_shift":
        factor = u(0.45, 0.7) if rng.random() < 0.5 else u(1.6, 2.5)
        if kind in ("latency_p95",):
            factor = u(1.6, 2.5)
        if kind == "error_ratio":
            factor = u(5.0, 12.0)
        return _Change(shape, u(6, 24) * 60 * minutes, factor)
    if shape == "drift":
        ramp = u(60, 240) * minutes
        if kind == "payment_success_ratio":
            return _Change(shape, ramp + 60 * minutes, u(0.45, 0.8), ramp)
        if kind == "error_ratio":
            return _Change(shape, ramp + 60 * minutes, u(0.03, 0.12), ramp)
        factor = u(2.5, 5.0) if kind == "latency_p95" else u(0.3, 0.6)
        return _Change(shape, ramp + 60 * minutes, factor, ramp)
    if shape == "variance":
        return _Change(shape, u(60, 360) * minutes, u(4.0, 7.0))
    if shape == "latency_step":
        return _Change(shape, u(20, 180) * minutes, float(np.exp(u(np.log(3.0), np.log(30.0)))))
    if shape == "burst":
        return _Change(shape, u(10, 120) * minutes, u(0.05, 0.3))
    if shape == "payment_fall":
        return _Change(shape, u(20, 180) * minutes, u(0.25, 0.75))
    raise AssertionError(shape)


def _apply(change: _Change, kind: str, base: FloatArray, rel: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(changed expectation, noise multiplier) over the incident's points; ``rel`` is time since start."""
    m = change.magnitude
    ramp = np.clip(rel / change.ramp, 0.0, 1.0) if change.ramp > 0 else np.ones_like(rel)
    noise = np.ones_like(rel)
    s = change.shape
    if kind in ("error_ratio", "payment_success_ratio") and s in ("burst", "payment_fall", "drift", "outage"):
        target = np.full_like(base, m)
        if s == "drift" and kind == "error_ratio":
            target = np.maximum(base, m)
        return base + (target - base) * ramp, noise
    if kind == "error_ratio" and s == "level_shift":
        return np.minimum(base * m, 0.9), noise
    if s in ("spike", "drop", "outage", "level_shift", "latency_step"):
        return base * m, noise
    if s == "drift":
        return base * (1 + (m - 1) * ramp), noise
    if s == "variance":
        return base * (1 + 0.15 * (m - 1) / 3), noise * m
    raise AssertionError((kind, s))


# --- drawing the observed series ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Draw:
    """Expected value and the per-point noise model's standard deviation, for the oracle."""

    expected: FloatArray
    sd: FloatArray


def _expectations(p: _Platform, activity: FloatArray, rng: np.random.Generator, step: float) -> dict[str, FloatArray]:
    n = activity.size
    requests = 40.0 * p.size * activity  # per second
    error_base = float(rng.uniform(0.001, 0.01)) * np.exp(_ar1(rng, n, 0.995, 0.25))
    success_base = np.clip(float(rng.uniform(0.9, 0.985)) + _ar1(rng, n, 0.995, 0.008), 0.5, 0.999)
    latency_base = float(rng.uniform(0.08, 0.4)) * (1 + 0.3 * (activity / activity.max()) ** 2)
    return {
        "request_rate": requests,
        "latency_p95": latency_base,
        "error_ratio": error_base,
        "registrations": 0.02 * p.size * activity ** float(rng.uniform(1.0, 1.4)),
        "payment_success_ratio": success_base,
        "active_users": 1500.0 * p.size * activity**0.9,
    }


def _counts(requests: FloatArray, step: float) -> FloatArray:
    return requests * step


def _noise_sd(kind: str, expected: FloatArray, requests: FloatArray, step: float, noise: FloatArray) -> FloatArray:
    """Approximate sd of one observation around ``expected`` (the oracle's yardstick)."""
    n_req = np.maximum(_counts(requests, step), 1e-9)
    if kind == "request_rate":
        return np.sqrt(n_req + (0.03 * n_req) ** 2) / step
    if kind == "registrations":
        c = expected * step
        return np.sqrt(c + (0.03 * c) ** 2 + 1e-9) / step
    if kind == "active_users":
        return np.sqrt(expected + (0.03 * expected) ** 2)
    if kind == "latency_p95":
        return expected * (0.03 + 1.2 / np.sqrt(n_req)) * noise
    if kind == "error_ratio":
        return np.sqrt(expected * (1 - np.clip(expected, 0, 1)) / n_req + (0.2 * expected) ** 2)
    attempts = np.maximum(n_req * 0.002, 1e-9)
    return np.sqrt(expected * (1 - np.clip(expected, 0, 1)) / attempts * 1.5)


def _observe(
    kind: str, expected: FloatArray, requests: FloatArray, step: float, noise: FloatArray, rng: np.random.Generator
) -> FloatArray:
    n_req = rng.poisson(_counts(requests, step)).astype(np.float64)
    if kind == "request_rate":
        return rng.poisson(np.maximum(expected * step, 0)).astype(np.float64) / step
    if kind == "registrations":
        return rng.poisson(np.maximum(expected * step, 0)).astype(np.float64) / step
    if kind == "active_users":
        return rng.poisson(np.maximum(expected, 0)).astype(np.float64)
    if kind == "latency_p95":
        sd = (0.03 + 1.2 / np.sqrt(np.maximum(n_req, 1.0))) * noise
        out: FloatArray = expected * np.exp(sd * rng.standard_t(4, expected.size) / math.sqrt(2.0))
        out[n_req == 0] = np.nan
        return out
    if kind == "error_ratio":
        p = np.clip(expected * np.exp(0.2 * rng.standard_normal(expected.size) - 0.02), 0, 1)
        errors = rng.binomial(n_req.astype(np.int64), p).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n_req > 0, errors / n_req, np.nan)
    attempts = rng.poisson(_counts(requests, step) * 0.002).astype(np.int64)
    q = np.clip(expected, 1e-6, 1 - 1e-6)
    conc = 200.0
    p = rng.beta(q * conc, (1 - q) * conc)
    ok = rng.binomial(attempts, p).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(attempts > 0, ok / np.maximum(attempts, 1), np.nan)


def _place_incidents(
    name: str,
    kind: str,
    t: FloatArray,
    base: FloatArray,
    requests: FloatArray,
    step: float,
    rng: np.random.Generator,
    *,
    first: float,
    last: float,
    count: int,
) -> tuple[FloatArray, FloatArray, list[Incident]]:
    expected = base.copy()
    noise = np.ones_like(base)
    busy = np.zeros(t.size, dtype=bool)
    incidents: list[Incident] = []
    gap = 6 * 3600.0
    for _ in range(count * 20):
        if len(incidents) >= count:
            break
        change = _draw_incident(kind, rng)
        start = float(np.floor(rng.uniform(first, last - change.duration) / step) * step)
        end = start + change.duration
        sel = (t >= start) & (t <= end)
        near = (t >= start - gap) & (t <= end + gap)
        if not sel.any() or busy[near].any():
            continue
        rel = t[sel] - start
        changed, mult = _apply(change, kind, base[sel], rel)
        # the oracle's check over the first hour (or the whole incident if shorter)
        head = rel <= 3600.0
        sd_base = _noise_sd(kind, base[sel][head], requests[sel][head], step, np.ones(int(head.sum())))
        sd_new = _noise_sd(kind, changed[head], requests[sel][head], step, mult[head])
        delta = (changed[head] - base[sel][head]) / np.maximum(sd_base, 1e-12)
        snr = float(np.sqrt(np.sum(delta**2)))
        if change.shape == "variance":
            snr = float(np.sqrt(np.sum(np.log(sd_new / np.maximum(sd_base, 1e-12)) ** 2)) * 3)
        if not math.isfinite(snr) or snr < MIN_SNR:
            continue
        expected[sel] = changed
        noise[sel] = mult
        busy[near] = True
        incidents.append(Incident(name, change.shape, start, end, change.magnitude))
    incidents.sort(key=lambda i: i.start)
    return expected, noise, incidents


def generate_eval_set(
    seed: int = 1,
    *,
    platforms: int = 8,
    days: int = 35,
    learn_days: int = 7,
    step: float = STEP,
    incidents_per_series: int = 4,
    kinds: tuple[str, ...] = KINDS,
) -> EvalSet:
    """The evaluation set for ``seed``: ``platforms`` × ``kinds`` series of ``days`` days.

    Incidents fall only after the first ``learn_days`` (history the detector may learn
    from, as the engine's warm start reads from Prometheus) and at least 6 hours apart.
    """
    rng = np.random.default_rng(seed)
    t = START + np.arange(0.0, days * DAY, step)
    first = START + (learn_days + 0.25) * DAY
    last = START + (days - 0.25) * DAY
    series: list[EvalSeries] = []
    for p in _platforms(rng, platforms):
        activity = _activity(p, t, rng)
        bases = _expectations(p, activity, rng, step)
        requests = bases["request_rate"]
        for kind in kinds:
            name = f"{kind}:{p.name}"
            base = bases[kind]
            expected, noise, incidents = _place_incidents(
                name, kind, t, base, requests, step, rng, first=first, last=last, count=incidents_per_series
            )
            req = expected if kind == "request_rate" else requests
            values = _observe(kind, expected, req, step, noise, rng)
            series.append(EvalSeries(name, kind, p.name, t, values, expected, base, tuple(incidents)))
    return EvalSet(seed=seed, step=step, days=days, learn_days=learn_days, series=tuple(series))
