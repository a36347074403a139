"""Generated revenue history fed through the same ``query_range`` interface Prometheus answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

DAY = 86400.0
STEP = 60.0


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, str]
    timestamps: np.ndarray
    values: np.ndarray


def revenue_curve(t: np.ndarray, *, base: float, seed: int, noise: float = 0.08) -> np.ndarray:
    """Revenue per minute bucket: daily cycle, weekend lift, slow growth, multiplicative noise."""
    rng = np.random.default_rng(seed)
    hour = (t % DAY) / 3600
    daily = 1 + 0.45 * np.sin(2 * np.pi * (hour - 14) / 24)
    weekday = ((t // DAY) + 3) % 7  # 1970-01-01 was a Thursday: 5, 6 are Saturday, Sunday
    weekend = np.where(weekday >= 5, 1.2, 1.0)
    trend = 1 + 0.01 * (t - t[0]) / DAY
    return base * daily * weekend * trend * (1 + noise * rng.standard_normal(t.size))


@dataclass
class FakeRevenuePrometheus:
    """Answers the impact package's range queries from arrays (a stand-in for Prometheus's API).

    ``revenue`` maps (platform, stream, currency) to per-bucket revenue on ``timestamps``;
    ``payments`` maps (platform, status) to attempts per bucket; ``failed_value`` maps currency
    to the value of failed attempts per bucket. Points are on the ``k * STEP`` grid.
    """

    timestamps: np.ndarray
    revenue: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)
    payments: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    failed_value: dict[str, np.ndarray] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    ranges: list[tuple[str, float, float]] = field(default_factory=list)

    async def query_range(self, expr: str, start: float, end: float, step: float) -> Sequence[Series]:
        self.queries.append(expr)
        self.ranges.append((expr, start, end))
        assert step == STEP
        platforms = set(re.search(r'platform=~"([^"]+)"', expr).group(1).split("|"))  # type: ignore[union-attr]
        keep = (self.timestamps >= start) & (self.timestamps <= end)
        t = self.timestamps[keep]
        if "fanz_revenue_total" in expr:
            return [
                Series({"platform": p, "payment_type": s, "currency": c}, t, v[keep])
                for (p, s, c), v in self.revenue.items()
                if p in platforms
            ]
        if "fanz_payment_transactions_total" in expr:
            return [
                Series({"platform": p, "status": st}, t, v[keep])
                for (p, st), v in self.payments.items()
                if p in platforms
            ]
        if "fanz_payment_failed_value_total" in expr:
            return [Series({"currency": c}, t, v[keep]) for c, v in self.failed_value.items()]
        raise AssertionError(f"unexpected query {expr}")
