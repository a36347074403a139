"""Daily and weekly seasonality of creator-platform traffic, and compressed simulated time.

Traffic on consumer platforms bottoms out before dawn, climbs through the day, peaks in
the evening, and is higher at the weekend. The profile below is that shape, hour by hour,
interpolated linearly; the weekly factor scales whole days. Anomaly detection and the
registration alerts are tested against this seasonality, which is why it is not a flat
rate.

>>> clock = SimulatedClock(start=datetime(2025, 1, 6, tzinfo=UTC), day_seconds=600)
>>> clock.at(300.0).hour  # five real minutes = half a simulated day
12
"""

from __future__ import annotations

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
