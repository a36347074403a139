"""Daily and weekly seasonality of creator-platform traffic, and compressed simulated time.

Traffic on consumer platforms bottoms out before dawn, climbs through the day, peaks in
the evening, and is higher at the weekend. The profile below is that shape, hour by hour,
interpolated linearly; the weekly factor scales whole days. Anomaly detection and the
registration alerts are tested against this seasonality, which is why it is not a flat
rate.

This is the one seasonal model of the demo: the live simulator, the metrics history
backfilled into Prometheus (``fanzwatch.demo.history``) and the platform data generator
(``fanzwatch.demo.generate``) all read it, so history and live traffic have one shape.
Each of the 13 platforms has its own size and audience time zone
(:func:`platform_profile`): the evening peak of ``fanz-5`` is not that of ``fanz-1``.

>>> clock = SimulatedClock(start=datetime(2025, 1, 6, tzinfo=UTC), day_seconds=600)
>>> clock.at(300.0).hour  # five real minutes = half a simulated day
12
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Relative traffic by hour of day (0-23), peak 1.0 at 21:00.
# fmt: off
HOURLY_PROFILE: tuple[float, ...] = (
    0.55, 0.40, 0.28, 0.20, 0.16, 0.17, 0.22, 0.32, 0.42, 0.50, 0.56, 0.60,
    0.66, 0.66, 0.63, 0.63, 0.67, 0.74, 0.83, 0.92, 0.98, 1.00, 0.90, 0.74,
)
# fmt: on
# Relative traffic by weekday, Monday first; Saturday is the busiest day.
WEEKDAY_PROFILE: tuple[float, ...] = (0.88, 0.86, 0.88, 0.91, 0.97, 1.00, 0.96)
SECONDS_PER_DAY = 86_400.0


def daily_factor(moment: datetime) -> float:
    """Hour-of-day factor, linearly interpolated between hours (0.16 to 1.0)."""
    hours = moment.hour + moment.minute / 60 + moment.second / 3600 + moment.microsecond / 3.6e9
    low = int(hours) % 24
    frac = hours - int(hours)
    return HOURLY_PROFILE[low] * (1 - frac) + HOURLY_PROFILE[(low + 1) % 24] * frac


def weekly_factor(moment: datetime) -> float:
    return WEEKDAY_PROFILE[moment.weekday()]


def seasonal_factor(moment: datetime) -> float:
    """The share of peak traffic at ``moment`` (between 0.13 and 1.0)."""
    return daily_factor(moment) * weekly_factor(moment)


@dataclass(frozen=True, slots=True)
class PlatformProfile:
    """How big a platform is and when its audience is awake.

    ``size`` is its traffic relative to the largest platform (1.0); ``peak_hour_shift``
    is how many hours after the profile's 21:00 UTC its evening peak comes (its
    audience's time zone, west of UTC positive). Both also scale its users, creators and
    money in the generated platform data.

    >>> platform_profile("fanz-2")
    PlatformProfile(size=0.75, peak_hour_shift=5)
    """

    size: float
    peak_hour_shift: int

    def factor(self, moment: datetime) -> float:
        """The share of this platform's own peak at ``moment`` (its local hour and weekday)."""
        return seasonal_factor(moment - timedelta(hours=self.peak_hour_shift))


# The 13 FANZ platforms: a long tail of sizes, audiences from the Pacific to Japan.
# fmt: off
PLATFORM_PROFILES: dict[str, PlatformProfile] = {
    f"fanz-{n}": PlatformProfile(size, shift)
    for n, (size, shift) in enumerate(
        (
            (1.0, 0), (0.75, 5), (0.6, -1), (0.5, 8), (0.42, -8), (0.35, 3), (0.3, -2),
            (0.25, 6), (0.2, -5), (0.16, 1), (0.13, -9), (0.1, 4), (0.08, -3),
        ),
        start=1,
    )
}
# fmt: on


def platform_profile(platform: str) -> PlatformProfile:
    """The profile of ``platform``: the table's for fanz-1..13, else a stable one from its slug.

    A configured slug that is not one of the defaults (``FANZWATCH_PLATFORMS``) gets a
    size between 0.1 and 0.59 and a shift between -12 and 11 hours derived from a
    checksum of the slug, so every run (and the history) agrees on it.
    """
    known = PLATFORM_PROFILES.get(platform)
    if known is not None:
        return known
    digest = zlib.crc32(platform.encode())
    return PlatformProfile(size=0.1 + (digest % 50) / 100, peak_hour_shift=(digest // 50) % 24 - 12)


def platform_shares(platforms: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Each platform's share of the total traffic (sizes normalised to sum to 1)."""
    sizes = {p: platform_profile(p).size for p in platforms}
    total = sum(sizes.values())
    return {p: size / total for p, size in sizes.items()}


def platform_rates(platforms: tuple[str, ...] | list[str], peak_rps: float, moment: datetime) -> dict[str, float]:
    """Requests per second of each platform at ``moment`` when all of them at peak make ``peak_rps``.

    >>> platform_rates(("fanz-1",), 10.0, datetime(2025, 1, 11, 21, tzinfo=UTC))  # a Saturday
    {'fanz-1': 10.0}
    """
    return {p: peak_rps * share * platform_profile(p).factor(moment) for p, share in platform_shares(platforms).items()}


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    """Maps real elapsed seconds to simulated wall-clock time.

    ``day_seconds`` is how long a simulated day lasts in real seconds (86 400 means real
    time; 600 means a day in ten minutes).
    """

    start: datetime
    day_seconds: float = SECONDS_PER_DAY

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("SimulatedClock.start must be timezone-aware")
        if not 1.0 <= self.day_seconds <= SECONDS_PER_DAY:
            raise ValueError("day_seconds must be between 1 and 86400")

    @property
    def compression(self) -> float:
        return SECONDS_PER_DAY / self.day_seconds

    def at(self, real_elapsed: float) -> datetime:
        return self.start + timedelta(seconds=real_elapsed * self.compression)


def default_start() -> datetime:
    """Start simulating at the current real time, so a real-time run matches the wall clock."""
    return datetime.now(UTC)
