"""What the demo platform would have exposed, had the simulator run for weeks: one platform's series.

The same model as the live traffic, sample for sample in expectation: arrivals at the
simulator's rate for the platform (``platform_rates``: its size times its seasonal
profile), split over the simulator's action mix (``ACTION_WEIGHTS``) and card mix
(``CARD_WEIGHTS``), each action answered on the route and with the status the platform
gives it, counted the way the SDK counts it. Counts are Poisson (multinomial within a
step), so history has the noise of real traffic; a seeded generator makes it
reproducible.

Simplifications, all invisible in per-platform views, each to keep the sample count (and
so promtool's time) down: the latency buckets are carried by the busiest route only
(every route draws from one latency model, so the per-platform quantiles are the same)
and only since ``buckets_since`` (the recorded p95/p50 cover all of the history); no
``_sum`` series (nothing reads it); active users follow the simulator's bounded
population.

>>> history = PlatformHistory.build("fanz-1", timestamps, params)   # doctest: +SKIP
>>> [s.name for s in history.series][:1]
['http_server_request_duration_seconds_count']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..simulator.actions import ACTION_WEIGHTS, CARD_WEIGHTS, CONTENT_KINDS, SOURCES
from ..simulator.seasonality import platform_profile, platform_shares
from ._seasonal import Array, Floats, Ints, platform_factors

API = "/p/{platform}/api/v1"
HTTP = "http_server_request_duration_seconds"
DECLINED_SHARE = 1.0 - dict(CARD_WEIGHTS)["tok_visa"] / sum(w for _, w in CARD_WEIGHTS)
PPV_ALREADY_BOUGHT = 0.05
LIKE_AGAIN = 0.1
# Major units, as the simulator draws them (subscription prices are the creators').
TIP_AMOUNTS = (1.0, 2.0, 5.0, 10.0, 25.0)
TIP_CURRENCIES = (("USD", 0.6), ("EUR", 0.2), ("GBP", 0.2))
SUBSCRIPTION_PRICES = (4.99, 9.99, 14.99, 19.99)
PPV_PRICES = (2.99, 4.99, 9.99)
# Platform time per request: log-normal.
LATENCY_MEDIAN = 0.02
LATENCY_SIGMA = 0.8


@dataclass(frozen=True, slots=True)
class Outcome:
    """One way an action is answered: method, route template, status, its share of the action."""

    method: str
    route: str
    status: int
    share: float = 1.0


def _paid(route: str) -> tuple[Outcome, ...]:
    return (Outcome("POST", route, 201, 1 - DECLINED_SHARE), Outcome("POST", route, 402, DECLINED_SHARE))


OUTCOMES: dict[str, tuple[Outcome, ...]] = {
    "view": (Outcome("POST", f"{API}/content/{{content_id}}/views", 201),),
    "like": (
        Outcome("POST", f"{API}/content/{{content_id}}/likes", 201, 1 - LIKE_AGAIN),
        Outcome("POST", f"{API}/content/{{content_id}}/likes", 200, LIKE_AGAIN),
    ),
    "comment": (Outcome("POST", f"{API}/content/{{content_id}}/comments", 201),),
    "share": (Outcome("POST", f"{API}/content/{{content_id}}/shares", 201),),
    "browse": (Outcome("GET", f"{API}/content", 200),),
    "login": (Outcome("POST", f"{API}/auth/login", 200),),
    "register_fan": (Outcome("POST", f"{API}/auth/register", 201),),
    "register_creator": (Outcome("POST", f"{API}/auth/register", 201),),
    "upload": (Outcome("POST", f"{API}/content", 201),),
    "subscribe": _paid(f"{API}/creators/{{creator_id}}/subscriptions"),
    "tip": _paid(f"{API}/creators/{{creator_id}}/tips"),
    "ppv": (
        *(
            Outcome(o.method, o.route, o.status, o.share * (1 - PPV_ALREADY_BOUGHT))
            for o in _paid(f"{API}/content/{{content_id}}/purchases")
        ),
        Outcome("POST", f"{API}/content/{{content_id}}/purchases", 409, PPV_ALREADY_BOUGHT),
    ),
}
BUCKETED_ACTION = "view"  # the busiest route carries the latency buckets


@dataclass(frozen=True, slots=True)
class HistoryParams:
    """Everything the history depends on besides the platform and the time grid."""

    platforms: tuple[str, ...]
    peak_rps: float
    buckets: tuple[float, ...]
    job: str = "fanz-platform"
    instance: str = "127.0.0.1:8300"
    rate_window_seconds: float = 300.0
    population: int = 46  # the simulator's fans + creators per platform
    buckets_since: float | None = None  # unix seconds; no bucket samples before (None: all)
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Series:
    """One series: sample name, labels (in order), a value per timestamp, decimals to print."""

    name: str
    labels: tuple[tuple[str, str], ...]
    values: Array
    decimals: int = 0


def _lognormal_cdf(x: float, median: float) -> float:
    return 0.5 * (1 + math.erf(math.log(x / median) / (LATENCY_SIGMA * math.sqrt(2))))


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


def histogram_quantile(q: float, bounds: Sequence[float], increments: Array) -> Floats:
    """Prometheus's ``histogram_quantile`` of per-step bucket increments (non-cumulative, +Inf last)."""
    cumulative = np.cumsum(increments, axis=1).astype(np.float64)
    total = cumulative[:, -1]
    rank = q * total
    raw = (cumulative < rank[:, None]).sum(axis=1)
    idx = np.minimum(raw, len(bounds) - 1)
    upper = np.asarray(bounds, dtype=np.float64)[idx]
    lower = np.where(idx > 0, np.asarray((0.0, *bounds), dtype=np.float64)[idx], 0.0)
    below = np.where(idx > 0, cumulative[np.arange(len(idx)), np.maximum(idx - 1, 0)], 0.0)
    inside = cumulative[np.arange(len(idx)), idx] - below
    with np.errstate(invalid="ignore", divide="ignore"):
        inner = np.where(raw < len(bounds), lower + (upper - lower) * (rank - below) / inside, bounds[-1])
    result: Floats = np.where(total > 0, inner, np.nan)
    return result


@dataclass
class PlatformHistory:
    """One platform's raw series and the aggregates Prometheus's recording rules would hold."""

    platform: str
    series: list[Series] = field(default_factory=list)
    aggregates: dict[str, Floats] = field(default_factory=dict)

    @classmethod
    def build(cls, platform: str, timestamps: Ints, params: HistoryParams) -> PlatformHistory:
        """Draw the platform's traffic on ``timestamps`` (evenly spaced unix seconds)."""
        # Each point stands for the time since the previous one (the first: as long as the next gap).
        gaps = np.diff(timestamps).astype(np.float64)
        step = np.concatenate([gaps[:1], gaps])
        salt = sum(ord(c) * 31**i for i, c in enumerate(platform)) % 2**32
        rng = np.random.default_rng([params.seed, salt])
        share = platform_shares(params.platforms)[platform]
        rate = params.peak_rps * share * platform_factors(platform_profile(platform), timestamps)
        weights = dict(ACTION_WEIGHTS)
        total_weight = sum(weights.values())
        actions = {a: rng.poisson(rate * step * w / total_weight) for a, w in weights.items()}
        return _Builder(cls(platform), rng, params, timestamps, step).run(actions)


class _Builder:
    def __init__(
        self, history: PlatformHistory, rng: np.random.Generator, params: HistoryParams, timestamps: Ints, step: Floats
    ) -> None:
        self.h, self.rng, self.p, self.t, self.step = history, rng, params, timestamps, step
        self.common = (("platform", history.platform), ("job", params.job), ("instance", params.instance))

    def _counter(self, name: str, labels: tuple[tuple[str, str], ...], increments: Array, decimals: int = 0) -> None:
        values = np.cumsum(increments)
        self.h.series.append(Series(name, (*self.common, *labels), values, decimals))

    def _trailing(self, increments: Array, seconds: float) -> Floats:
        """The sum of ``increments`` over the trailing ``seconds`` (``increase(x[seconds])``)."""
        cumulative = np.concatenate([[0.0], np.cumsum(increments, dtype=np.float64)])
        before = np.searchsorted(self.t, self.t - seconds, side="right")
        result: Floats = cumulative[1:] - cumulative[before]
        return result

    def _split(self, counts: Array, shares: Sequence[float] | Floats) -> Array:
        p = np.asarray(shares, dtype=np.float64)
        out: Array = self.rng.multinomial(counts, p / p.sum())
        return out

    def run(self, actions: dict[str, Array]) -> PlatformHistory:
        self._http(actions)
        self._business(actions)
        return self.h

    def _http(self, actions: dict[str, Array]) -> None:
        per_outcome: dict[Outcome, Array] = {}
        for action, outcomes in OUTCOMES.items():
            split = self._split(actions[action], [o.share for o in outcomes])
            for i, o in enumerate(outcomes):
                per_outcome[o] = per_outcome[o] + split[:, i] if o in per_outcome else split[:, i]
        zero = np.zeros(len(actions["view"]), dtype=np.int64)
        total: Array = sum(per_outcome.values(), zero)
        client_errors: Array = sum((n for o, n in per_outcome.items() if o.status >= 400), zero)
        for o, n in per_outcome.items():
            labels = (
                ("http_request_method", o.method),
                ("http_route", o.route),
                ("http_response_status_code", str(o.status)),
                ("status_class", _status_class(o.status)),
            )
            self._counter(f"{HTTP}_count", labels, n)
        bucketed = OUTCOMES[BUCKETED_ACTION][0]
        bounds = self.p.buckets
        cdf = [_lognormal_cdf(b, LATENCY_MEDIAN) for b in bounds]
        probabilities = np.diff(np.asarray([0.0, *cdf, 1.0]))
        increments = self._split(per_outcome[bucketed], probabilities)
        cumulative = np.cumsum(np.cumsum(increments, axis=1), axis=0)
        labels = (
            ("http_request_method", bucketed.method),
            ("http_route", bucketed.route),
            ("http_response_status_code", str(bucketed.status)),
            ("status_class", _status_class(bucketed.status)),
        )
        # ``le`` as prometheus_client writes it ("1.0", not "1"): the latency SLIs select it
        for i, le in enumerate((*(repr(float(b)) for b in bounds), "+Inf")):
            values = cumulative[:, i].astype(np.float64)
            if self.p.buckets_since is not None:
                values[self.t < self.p.buckets_since] = np.nan
            self.h.series.append(Series(f"{HTTP}_bucket", (*self.common, *labels, ("le", le)), values))
        with np.errstate(invalid="ignore", divide="ignore"):
            self.h.aggregates |= {
                "request_rate": total / self.step,
                "error_ratio_5xx": np.where(total > 0, 0.0, np.nan),
                "error_ratio_4xx": np.where(total > 0, client_errors / total, np.nan),
                "latency_p95": histogram_quantile(0.95, bounds, increments),
                "latency_p50": histogram_quantile(0.5, bounds, increments),
            }
        authenticated = total - per_outcome[OUTCOMES["browse"][0]]
        seen = self._trailing(authenticated, 300.0)  # the SDK's 5-minute active window
        active = np.round(self.p.population * (1 - np.exp(-seen / self.p.population)))
        self.h.series.append(Series("fanz_active_users", (*self.common,), active))

    def _business(self, actions: dict[str, Array]) -> None:
        sources = [s for s, _ in SOURCES]
        for role, action in (("fan", "register_fan"), ("creator", "register_creator")):
            split = self._split(actions[action], [w for _, w in SOURCES])
            for i, source in enumerate(sources):
                self._counter("fanz_user_registrations_total", (("role", role), ("source", source)), split[:, i])
        uploads = self._split(actions["upload"], [w for _, w in CONTENT_KINDS])
        for i, (kind, _) in enumerate(CONTENT_KINDS):
            self._counter(
                "fanz_content_uploads_total", (("content_type", kind), ("creator_tier", "new")), uploads[:, i]
            )
        registrations = actions["register_fan"] + actions["register_creator"]
        attempts = np.zeros_like(registrations)
        completed_all = np.zeros_like(registrations)
        paid = (
            ("subscription", actions["subscribe"], (("USD", 1.0),), SUBSCRIPTION_PRICES),
            ("tip", actions["tip"], TIP_CURRENCIES, TIP_AMOUNTS),
            ("ppv", self.rng.binomial(actions["ppv"], 1 - PPV_ALREADY_BOUGHT), (("USD", 1.0),), PPV_PRICES),
        )
        for payment_type, count, currencies, amounts in paid:
            by_currency = self._split(count, [s for _, s in currencies])
            for i, (currency, _) in enumerate(currencies):
                n = by_currency[:, i]
                declined = self.rng.binomial(n, DECLINED_SHARE)
                completed = n - declined
                attempts, completed_all = attempts + n, completed_all + completed
                base = (("payment_type", payment_type), ("currency", currency))
                for status, values in (("completed", completed), ("declined", declined)):
                    self._counter("fanz_payment_transactions_total", (*base, ("status", status)), values)
                revenue = self._split(completed, [1.0] * len(amounts)) @ np.asarray(amounts)
                self._counter("fanz_revenue_total", base, revenue, decimals=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.h.aggregates |= {
                "payment_failed_ratio": np.where(attempts > 0, 0.0, np.nan),
                "payment_completed_ratio": np.where(attempts > 0, completed_all / attempts, np.nan),
                "payment_attempts": attempts * (self.p.rate_window_seconds / self.step),
                "registrations_hourly": self._trailing(registrations, 3600.0),
            }
