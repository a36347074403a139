"""Time ranges, steps and dashboard variables: turning a panel's PromQL into a query.

A range is one of a few fixed choices (15m ... 7d). Its step is the smallest "nice"
step giving at most ``max_points`` points, and its end is aligned to the step, so
every panel of a page shares one time grid and repeated loads hit the same samples.

Variables, as Grafana defines them:

- ``$platform``: the selected platform, or all (``Target.resolve`` checks the slug);
- ``$__interval`` / ``$__interval_ms``: the step;
- ``$__rate_interval``: ``max(step + scrape interval, 4 x scrape interval)``, the
  smallest window ``rate()`` can use without gaps;
- ``$__range`` / ``$__range_s``: the length of the range.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ...provisioning.dashboard import Target
from ...settings.dash import RANGES

RANGE_SECONDS = {"15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}
NICE_STEPS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
REFRESH_CHOICES = {"off": 0, "10s": 10, "30s": 30, "1m": 60, "5m": 300}
_VARIABLE = re.compile(r"\$(__rate_interval|__interval_ms|__interval|__range_s|__range)\b")
assert tuple(RANGE_SECONDS) == RANGES


class RangeError(ValueError):
    """A range, refresh or platform parameter that FanzDash does not offer."""


@dataclass(frozen=True, slots=True)
class TimeRange:
    """``[start, end]`` in unix seconds with ``step``; ``key`` is what the picker shows."""

    key: str
    start: float
    end: float
    step: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def nice_step(seconds: float, max_points: int) -> float:
    """The smallest nice step that covers ``seconds`` in at most ``max_points`` points."""
    want = seconds / max(1, max_points - 1)
    return float(next((s for s in NICE_STEPS if s >= want), math.ceil(want / 86400) * 86400))


def time_range(key: str, *, now: float, max_points: int, min_step: float = 0.0) -> TimeRange:
    """The range named ``key`` ending now (aligned down to its step).

    ``min_step`` (the scrape interval) keeps short ranges from asking for more points
    than were scraped.
    """
    if key not in RANGE_SECONDS:
        raise RangeError(f"range {key[:20]!r} is not offered; choose one of {', '.join(RANGE_SECONDS)}")
    length = RANGE_SECONDS[key]
    step = nice_step(length, max_points)
    if step < min_step:
        step = float(next((s for s in NICE_STEPS if s >= min_step), min_step))
    end = math.floor(now / step) * step
    return TimeRange(key=key, start=end - length, end=end, step=step)


def refresh_seconds(key: str) -> int:
    if key not in REFRESH_CHOICES:
        raise RangeError(f"refresh {key[:20]!r} is not offered; choose one of {', '.join(REFRESH_CHOICES)}")
    return REFRESH_CHOICES[key]


def _duration(seconds: float) -> str:
    return f"{math.ceil(seconds)}s"


def resolve(expr: str, *, platform: str | None, rng: TimeRange, scrape_interval: float) -> str:
    """``expr`` with every variable replaced; ``RangeError`` for a platform that is no slug."""
    try:
        out = Target(expr).resolve((platform,) if platform else None)
    except ValueError as exc:
        raise RangeError(str(exc)) from None
    values = {
        "__interval": _duration(rng.step),
        "__interval_ms": str(int(rng.step * 1000)),
        "__rate_interval": _duration(max(rng.step + scrape_interval, 4 * scrape_interval)),
        "__range": _duration(rng.seconds),
        "__range_s": str(int(rng.seconds)),
    }
    return _VARIABLE.sub(lambda m: values[m.group(1)], out)


def check_platform(value: str | None, platforms: tuple[str, ...]) -> str | None:
    """``None`` (all) for an empty value, the slug if configured, else ``RangeError``."""
    if not value:
        return None
    if value not in platforms:
        raise RangeError(f"platform {value[:40]!r} is not configured; choose one of {', '.join(platforms)}")
    return value
