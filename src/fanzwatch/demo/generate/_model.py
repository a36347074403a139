"""What a creator platform's data looks like: rates, mixes, delays, prices (the parameters).

Every figure is per platform at ``scale=1.0`` and platform size 1.0; the seasonal model of
the traffic simulator (``demo.simulator.seasonality``) shapes each hour and day.
Times are integer microseconds since the Unix epoch throughout the generator: exact,
vectorisable, and the unit both backends store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from ..simulator import seasonality

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Currencies, their minor digits and a starting USD rate (the rate history walks from it).
CURRENCIES: dict[str, tuple[int, Decimal]] = {
    "USD": (2, Decimal("1")),
    "EUR": (2, Decimal("1.08")),
    "GBP": (2, Decimal("1.27")),
    "CAD": (2, Decimal("0.74")),
    "AUD": (2, Decimal("0.66")),
    "JPY": (0, Decimal("0.0067")),
    "BRL": (2, Decimal("0.18")),
    "MXN": (2, Decimal("0.055")),
}
#: Country mix of sign-ups, and each country's currency.
COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("US", "USD", 0.40),
    ("GB", "GBP", 0.10),
    ("DE", "EUR", 0.08),
    ("FR", "EUR", 0.06),
    ("ES", "EUR", 0.04),
    ("CA", "CAD", 0.07),
    ("AU", "AUD", 0.06),
    ("JP", "JPY", 0.05),
    ("BR", "BRL", 0.08),
    ("MX", "MXN", 0.06),
)
SOURCES: tuple[tuple[str, float], ...] = (
    ("web", 0.45),
    ("ios", 0.25),
    ("android", 0.2),
    ("referral", 0.07),
    ("api", 0.01),
    ("other", 0.02),
)
CREATOR_TIERS: tuple[tuple[str, float], ...] = (("new", 0.5), ("standard", 0.3), ("verified", 0.15), ("top", 0.05))
CONTENT_TYPES: tuple[tuple[str, float], ...] = (("image", 0.5), ("video", 0.3), ("audio", 0.05), ("text", 0.15))
#: Monthly subscription prices (USD equivalent) creators choose from.
MONTHLY_PRICES_USD: tuple[float, ...] = (4.99, 7.99, 9.99, 14.99, 19.99, 29.99)
#: Billing periods in months, their shares, and the discount on the whole period.
BILLING: tuple[tuple[int, float, float], ...] = ((1, 0.78, 1.0), (3, 0.12, 0.9), (6, 0.05, 0.85), (12, 0.05, 0.8))
DAYS_PER_MONTH = 30  # a billing month is 30 days: simple, and the platform does the same
#: Outcome of a payment attempt; refunds and chargebacks first succeed, then reverse later.
STATUSES: tuple[tuple[str, float], ...] = (
    ("completed", 0.895),
    ("declined", 0.05),
    ("failed", 0.015),
    ("refunded", 0.032),
    ("chargeback", 0.008),
)
#: Median and log-spread of the delay until a refund / chargeback lands (days).
REFUND_DELAY_DAYS = (2.0, 1.0)
CHARGEBACK_DELAY_DAYS = (25.0, 0.6)
PLATFORM_FEE = Decimal("0.20")
FEE_MISSING_SHARE = 0.1  # legacy rows without a recorded fee: BI applies its default rate
SESSION_MEDIAN_SECONDS = 420.0
SESSION_OPEN_SHARE = 0.015  # sessions never closed (no logout, no heartbeat)
VIEW_ANONYMOUS_SHARE = 0.08
GROWTH_PER_YEAR = 0.3


@dataclass(frozen=True, slots=True)
class Volumes:
    """Mean rows per platform per day at ``scale=1.0`` (before seasonality and growth)."""

    fan_signups: float = 45.0
    creator_signups: float = 3.0
    uploads: float = 35.0
    ppv_share: float = 0.25
    sessions: float = 1500.0
    views: float = 2500.0
    likes: float = 450.0
    comments: float = 80.0
    shares: float = 35.0
    new_subscriptions: float = 30.0
    tips: float = 220.0
    ppv_purchases: float = 120.0
    # the population that already exists at ``start``
    initial_fans: float = 1500.0
    initial_creators: float = 80.0
    initial_content: float = 600.0
    initial_subscriptions: float = 1200.0
    initial_days: int = 180


VOLUMES = Volumes()


@dataclass(frozen=True, slots=True)
class Profile:
    """A platform's relative size and how many hours its daily peak is shifted."""

    size: float = 1.0
    peak_hour_shift: float = 0.0


def platform_profile(platform: str) -> Profile:
    """The simulator's profile of ``platform`` when it has one; otherwise size 1, no shift."""
    # getattr: the simulator's per-platform profile is optional; read its two fields only.
    lookup: Any = getattr(seasonality, "platform_profile", None)
    if lookup is None:
        return Profile()
    found = lookup(platform)
    return Profile(size=float(found.size), peak_hour_shift=float(getattr(found, "peak_hour_shift", 0.0)))


def to_us(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a timezone-aware datetime")
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def hourly_intensity(start_us: int, end_us: int, profile: Profile, start_of_growth_us: int) -> np.ndarray:
    """Relative rate of each hour in ``[start_us, end_us)`` (mean 1.0 over a week, times growth)."""
    first = start_us // US_PER_HOUR
    last = -(-end_us // US_PER_HOUR)
    shift = timedelta(hours=profile.peak_hour_shift)
    factors = np.array([seasonality.seasonal_factor(from_us(h * US_PER_HOUR) - shift) for h in range(first, last)])
    week = [seasonality.seasonal_factor(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=h)) for h in range(168)]
    years = (np.arange(first, last, dtype=np.float64) * US_PER_HOUR - start_of_growth_us) / (365 * US_PER_DAY)
    out: np.ndarray = factors / float(np.mean(week)) * (1.0 + GROWTH_PER_YEAR * years)
    return out


def event_times(
    rng: np.random.Generator, per_day: float, start_us: int, end_us: int, intensity: np.ndarray
) -> np.ndarray:
    """Sorted event times in ``[start_us, end_us)``: a Poisson count per hour, uniform within it."""
    first = start_us // US_PER_HOUR
    counts = rng.poisson(np.maximum(per_day / 24.0 * intensity, 0.0))
    hours = np.repeat(np.arange(first, first + len(counts), dtype=np.int64), counts)
    times = hours * US_PER_HOUR + rng.integers(0, US_PER_HOUR, size=len(hours), dtype=np.int64)
    times = times[(times >= start_us) & (times < end_us)]
    times.sort()
    return times


def choose(rng: np.random.Generator, table: tuple[tuple[Any, ...], ...], n: int) -> np.ndarray:
    """``n`` indexes into ``table`` drawn with the weights in each entry's last field."""
    weights = np.array([row[-1] for row in table], dtype=np.float64)
    return rng.choice(len(table), size=n, p=weights / weights.sum())


def pick_existing(rng: np.random.Generator, created_us: np.ndarray, at_us: np.ndarray, *, skew: float) -> np.ndarray:
    """For each time, the index of a row created before it (sorted ``created_us``).

    ``skew > 1`` favours old rows (regular users), ``skew < 1`` recent ones (new content).
    Times before the first row get index -1.
    """
    existing = np.searchsorted(created_us, at_us, side="right")
    idx = np.floor(existing * rng.random(len(at_us)) ** skew).astype(np.int64)
    return np.where(existing > 0, np.minimum(idx, existing - 1), -1)
