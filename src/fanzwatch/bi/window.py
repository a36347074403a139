"""Time windows: parsing ``24h``/``7d``, the previous window, and how a window splits over rollups.

A window is half-open, ``[start, end)``: an event exactly at ``start`` is inside, one exactly
at ``end`` is not, so consecutive windows never count anything twice. The previous window
of ``[start, end)`` is ``[start - length, start)``: equal length, no overlap (the guide's
"previous day" was a 48-hour window that contained today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..core.errors import ConfigError
from ._sql import DAY, HOUR, day_start, hour_number, hour_start

_DURATION = re.compile(r"^\s*(\d{1,4})\s*([mhdw])\s*$")
_UNITS = {"m": timedelta(minutes=1), "h": HOUR, "d": DAY, "w": timedelta(weeks=1)}
#: Longest window a report may ask for.
MAX_WINDOW = timedelta(days=366)


class WindowError(ConfigError):
    """A window could not be parsed or is out of range; the message says what is accepted."""


def parse_duration(text: str) -> timedelta:
    """``"24h"`` → 24 hours. Units: m, h, d, w; from 1 minute to 366 days.

    >>> parse_duration("30d")
    datetime.timedelta(days=30)
    """
    match = _DURATION.match(text or "")
    if not match:
        raise WindowError(
            f"invalid window {text!r}: use a number and a unit m, h, d or w, e.g. 15m, 24h, 7d, 4w", setting="window"
        )
    length = int(match.group(1)) * _UNITS[match.group(2)]
    if length <= timedelta(0) or length > MAX_WINDOW:
        raise WindowError(f"window {text!r} is out of range: from 1m to {MAX_WINDOW.days}d", setting="window")
    return length


def as_utc(t: datetime, *, name: str = "datetime") -> datetime:
    """An aware datetime converted to UTC; a naive one is refused (its zone is unknowable)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise WindowError(f"{name} {t.isoformat()} has no time zone: pass an aware datetime", setting=name)
    return t.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval ``[start, end)``.

    >>> w = Window.ending(datetime(2026, 1, 2, tzinfo=UTC), timedelta(days=1))
    >>> w.previous().end == w.start
    True
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", as_utc(self.start, name="start"))
        object.__setattr__(self, "end", as_utc(self.end, name="end"))
        if self.end <= self.start:
            raise WindowError(f"window end {self.end.isoformat()} is not after start {self.start.isoformat()}")

    @classmethod
    def ending(cls, end: datetime, length: timedelta) -> Window:
        return cls(end - length, end)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Window:
        """The window of equal length that ends where this one starts."""
        return Window(self.start - self.length, self.start)


@dataclass(frozen=True, slots=True)
class Split:
    """How a window is read: raw rows for partial hours, hourly rollups, daily rollups.

    ``raw`` are datetime ranges; ``hours`` epoch-hour ranges; ``days`` epoch-day ranges;
    all half-open. Together they tile the window exactly once.
    """

    raw: tuple[tuple[datetime, datetime], ...]
    hours: tuple[tuple[int, int], ...]
    days: tuple[tuple[int, int], ...]
    #: hour-aligned middle covered by rollups, as epoch hours (empty when start >= end)
    mid: tuple[int, int]


def _ceil_hour(t: datetime) -> int:
    h = hour_number(t)
    return h if hour_start(h) == t else h + 1


def split_window(window: Window, covered_until_hour: int | None) -> Split:
    """Split ``window`` given rollups complete for every hour before ``covered_until_hour``."""
    s, e = window.start, window.end
    if covered_until_hour is None:
        return Split(raw=((s, e),), hours=(), days=(), mid=(0, 0))
    hs = _ceil_hour(s)
    me = min(hour_number(e), covered_until_hour)
    if hs >= me:
        return Split(raw=((s, e),), hours=(), days=(), mid=(0, 0))
    raw = tuple(r for r in ((s, hour_start(hs)), (hour_start(me), e)) if r[0] < r[1])
    d1 = -(-hs // 24)  # ceil
    d2 = me // 24
    if d1 < d2:
        hours = tuple(h for h in ((hs, d1 * 24), (d2 * 24, me)) if h[0] < h[1])
        days: tuple[tuple[int, int], ...] = ((d1, d2),)
    else:
        hours, days = ((hs, me),), ()
    return Split(raw=raw, hours=hours, days=days, mid=(hs, me))


def utc_day_floor(t: datetime) -> datetime:
    """Midnight UTC at or before ``t``."""
    return day_start(int((t - datetime(1970, 1, 1, tzinfo=UTC)) // DAY))
