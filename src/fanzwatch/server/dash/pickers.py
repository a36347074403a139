"""The page controls every view shares: time range, platform, refresh, and links keeping them.

Bad values never break a page: the page renders with the default, answers 400 and
says which values are offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from fastapi import Request

from .timerange import RANGE_SECONDS, REFRESH_CHOICES, RangeError, check_platform, refresh_seconds


@dataclass(frozen=True, slots=True)
class Picks:
    """What the viewer chose (validated), and what was refused."""

    range: str
    platform: str | None
    refresh: str
    ranges: tuple[str, ...]
    errors: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def refresh_seconds(self) -> int:
        return REFRESH_CHOICES[self.refresh]

    @property
    def status(self) -> int:
        return 400 if self.errors else 200

    def query(self, **changes: str | None) -> str:
        """The query string of the current view with ``changes`` applied (None removes)."""
        values: dict[str, str | None] = {
            "range": self.range,
            "platform": self.platform,
            "refresh": self.refresh if self.refresh != "off" else None,
            **self.extra,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v}
        return "?" + urlencode(kept) if kept else ""


def read_picks(
    request: Request,
    *,
    platforms: tuple[str, ...],
    default_range: str,
    ranges: Sequence[str] = tuple(RANGE_SECONDS),
) -> Picks:
    q = request.query_params
    errors: list[str] = []
    chosen = q.get("range") or default_range
    if chosen not in ranges:
        errors.append(f"range {chosen[:20]!r} is not offered here; choose one of {', '.join(ranges)}")
        chosen = default_range if default_range in ranges else ranges[0]
    try:
        platform = check_platform(q.get("platform"), platforms)
    except RangeError as exc:
        errors.append(str(exc))
        platform = None
    refresh = q.get("refresh") or "off"
    try:
        refresh_seconds(refresh)
    except RangeError as exc:
        errors.append(str(exc))
        refresh = "off"
    return Picks(range=chosen, platform=platform, refresh=refresh, ranges=tuple(ranges), errors=tuple(errors))
