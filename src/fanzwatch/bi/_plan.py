"""What one rollup refresh has to recompute: a full rebuild, or changed and newly complete hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ._sql import hour_start


@dataclass(frozen=True, slots=True)
class RefreshPlan:
    """Rollups reach hours ``< c_old`` already; this refresh extends them to ``< c_new``.

    ``c_old is None`` means rebuild everything. ``since``: rows whose ``updated_at`` is at or
    after it may have changed hours that were already rolled up.
    """

    c_old: int | None
    c_new: int
    since: datetime | None

    @property
    def full(self) -> bool:
        return self.c_old is None

    @property
    def new_until(self) -> datetime:
        return hour_start(self.c_new)

    @property
    def old_until(self) -> datetime:
        assert self.c_old is not None
        return hour_start(self.c_old)

    @property
    def complete_days_until(self) -> int:
        """Days ``< this`` are complete (every hour rolled up)."""
        return self.c_new // 24

    def new_hours(self) -> list[tuple[int, int]]:
        if self.c_old is None or self.c_old >= self.c_new:
            return []
        return [(self.c_old, self.c_new)]

    def newly_complete_days(self) -> list[tuple[int, int]]:
        if self.c_old is None:
            return []
        lo, hi = self.c_old // 24, self.complete_days_until
        return [(lo, hi)] if lo < hi else []

    def changed(self, table: sa.Table, time: ColumnElement[Any]) -> ColumnElement[bool]:
        """Rows of ``table`` that changed since the last refresh in hours already rolled up."""
        assert self.since is not None
        return sa.and_(table.c.updated_at >= self.since, time.is_not(None), time < self.old_until)

    def in_new_hours(self, time: ColumnElement[Any]) -> ColumnElement[bool]:
        return sa.and_(time >= self.old_until, time < self.new_until)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of half-open ranges."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(r for r in ranges if r[0] < r[1]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def in_int_ranges(column: ColumnElement[Any], ranges: list[tuple[int, int]]) -> ColumnElement[bool]:
    return sa.or_(*(sa.and_(column >= a, column < b) for a, b in ranges))
