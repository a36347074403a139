"""A report's plan as plain data: its statement's shape and the statement's bind values.

Pure Python. For every window: which raw time ranges, rollup hours and rollup days tile
it; for every instant: how the subscription balance is assembled; for every cohort and
every distinct-user count: which path applies (see ``_query_users``). Parts that are
empty are left out of the shape; the numbers go into ``values`` under names the
statement's bind parameters use. Two reports with the same shape share one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

from ._keys import CountKey, InstantKey
from ._sql import day_number, hour_number, hour_start
from .rollup_tables import LOOKBACK_DAYS
from .window import Window, split_window


@dataclass(frozen=True, slots=True)
class WindowShape:
    raw: int  # raw time ranges w{i}_r{j}_lo/hi
    hours: int  # rollup hour ranges w{i}_h{j}_lo/hi
    days: int  # rollup day ranges w{i}_d{j}_lo/hi (read from the running totals at lo - 1 and hi - 1)


@dataclass(frozen=True, slots=True)
class InstantShape:
    rollup: bool  # balance at midnight i{k}_day, then the day's rollup hours and raw rows
    hours: bool  # i{k}_h_lo/hi
    raw: bool  # i{k}_r_lo/hi (raw mode: everything before i{k}_t)


@dataclass(frozen=True, slots=True)
class CohortShape:
    raw: int  # c{i}_r{j}_lo/hi; c{i}_last_day always
    hours: int  # rollup hour ranges c{i}_h{j}_lo/hi (partial days)
    days: bool  # rollup whole days c{i}_d_lo/hi


@dataclass(frozen=True, slots=True)
class DistinctShape:
    kind: str
    raw: bool  # q{n}_raw_lo/hi: counted straight from the platform table
    head: bool  # first partial day d0, from hs
    whole: bool  # whole days [d1, d2) from bi_first_active (anchor)
    tail: bool  # last partial day d2, before me
    edge_head: bool  # raw partial hour q{n}_eh_lo/hi
    edge_tail: bool  # raw partial hour q{n}_et_lo/hi
    #: head and (when nobody can have been active earlier in the window) tail from the
    #: per-hour counts of ``bi_user_hours``; False: from ``bi_user_days`` (the earlier path)
    hours: bool = False


@dataclass(frozen=True, slots=True)
class ReportShape:
    """Everything the statement's text depends on."""

    windows: tuple[WindowShape, ...]
    instants: tuple[InstantShape, ...]
    cohorts: tuple[CohortShape, ...]
    distinct: tuple[DistinctShape, ...]
    platform: bool  # filtered to one platform
    rollups: bool  # rollup tables exist
    by_platform: bool = False  # facts and subscriptions grouped by platform too
    disjoint: bool = False  # windows do not overlap: one branch per fact and grain, keyed by CASE


@dataclass(slots=True)
class Plan:
    """Builds a shape and its values together, so names cannot drift apart.

    ``edge_hours``: the partial first and last days of distinct-user counts from
    ``bi_user_hours`` (False: the earlier per-user path over ``bi_user_days``, kept for
    ``bench/bench_bi.py --previous-path``; the figures are the same).
    """

    covered: int | None
    platform: str | None = None
    by_platform: bool = False
    edge_hours: bool = True
    values: dict[str, Any] = field(default_factory=dict)
    windows: list[WindowShape] = field(default_factory=list)
    instants: list[InstantShape] = field(default_factory=list)
    cohorts: list[CohortShape] = field(default_factory=list)
    distinct: list[DistinctShape] = field(default_factory=list)
    _spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    _instant_keys: dict[datetime, int] = field(default_factory=dict)

    def shape(self) -> ReportShape:
        if self.platform is not None:
            self.values["platform"] = self.platform
        spans = sorted(self._spans)
        disjoint = all(a[1] <= b[0] for a, b in pairwise(spans))
        return ReportShape(
            windows=tuple(self.windows),
            instants=tuple(self.instants),
            cohorts=tuple(self.cohorts),
            distinct=tuple(self.distinct),
            platform=self.platform is not None,
            rollups=self.covered is not None,
            by_platform=self.by_platform,
            disjoint=disjoint,
        )

    def _ranges(self, prefix: str, ranges: tuple[tuple[Any, Any], ...]) -> int:
        for j, (lo, hi) in enumerate(ranges):
            self.values[f"{prefix}{j}_lo"], self.values[f"{prefix}{j}_hi"] = lo, hi
        return len(ranges)

    def add_window(self, window: Window) -> None:
        """Window ``w{i}``: its facts are tagged with that key."""
        i = len(self.windows)
        self._spans.append((window.start, window.end))
        split = split_window(window, self.covered)
        self.windows.append(
            WindowShape(
                raw=self._ranges(f"w{i}_r", split.raw),
                hours=self._ranges(f"w{i}_h", split.hours),
                days=self._ranges(f"w{i}_d", split.days),
            )
        )

    def add_instant(self, t: datetime) -> InstantKey:
        """Instant ``i{k}``: subscriptions recurring at ``t`` (started before, not stopped before); its key."""
        if t in self._instant_keys:
            return InstantKey(self._instant_keys[t])
        k = self._instant_keys[t] = len(self.instants)
        self._add_instant(k, t)
        return InstantKey(k)

    def _add_instant(self, k: int, t: datetime) -> None:
        self.values[f"i{k}_t"] = t
        if self.covered is None:
            self.instants.append(InstantShape(rollup=False, hours=False, raw=True))
            return
        me = min(hour_number(t), self.covered)
        day = me // 24
        self.values[f"i{k}_day"] = day
        hours, raw = day * 24 < me, hour_start(me) < t
        if hours:
            self.values[f"i{k}_h_lo"], self.values[f"i{k}_h_hi"] = day * 24, me
        if raw:
            self.values[f"i{k}_r_lo"], self.values[f"i{k}_r_hi"] = hour_start(me), t
        self.instants.append(InstantShape(rollup=True, hours=hours, raw=raw))

    def add_cohort(self, window: Window) -> None:
        """Cohort ``c{i}``: users who signed up in ``window``; day N must end by ``c{i}_last_day``."""
        i = len(self.cohorts)
        last_day = day_number(window.end)
        self.values[f"c{i}_last_day"] = last_day
        split = split_window(window, self.covered)
        hs, me = split.mid
        # Rollup cohort counts are complete only if every eligible day N is inside the rollups.
        if hs < me and self.covered is not None and self.covered >= last_day * 24:
            hours = self._ranges(f"c{i}_h", split.hours)
            for lo, hi in split.days:
                self.values[f"c{i}_d_lo"], self.values[f"c{i}_d_hi"] = lo, hi
            raw = self._ranges(f"c{i}_r", split.raw)
            self.cohorts.append(CohortShape(raw=raw, hours=hours, days=bool(split.days)))
        else:
            raw = self._ranges(f"c{i}_r", ((window.start, window.end),))
            self.cohorts.append(CohortShape(raw=raw, hours=0, days=False))

    def add_distinct(self, kind: str, window: Window) -> CountKey:
        """Count ``q{n}``: distinct users with activity ``kind`` in ``window``; its key."""
        n, v = len(self.distinct), self.values
        p = f"q{n}_"
        raw_only = DistinctShape(kind, raw=True, head=False, whole=False, tail=False, edge_head=False, edge_tail=False)
        hs, me = split_window(window, self.covered).mid if self.covered is not None else (0, 0)
        d0, head = hs // 24, hs % 24 != 0
        d1 = d0 + 1 if head else d0
        d2, tail = me // 24, me % 24 != 0
        anchor = d0 if head else d1
        if hs >= me or d1 > d2 or (d2 - 1) - anchor > LOOKBACK_DAYS:
            v[p + "raw_lo"], v[p + "raw_hi"] = window.start, window.end
            self.distinct.append(raw_only)
            return CountKey(n)
        t_hs, t_me = hour_start(hs), hour_start(me)
        v.update({p + "d0": d0, p + "hs": hs, p + "d1": d1, p + "d2": d2, p + "anchor": anchor, p + "me": me})
        v.update({p + "first_day": hs // 24, p + "last_day": (me - 1) // 24})
        v.update({p + "head_hi": d1 * 24, p + "tail_lo": d2 * 24})
        edge_head, edge_tail = window.start < t_hs, t_me < window.end
        if edge_head:
            v[p + "eh_lo"], v[p + "eh_hi"] = window.start, t_hs
        if edge_tail:
            v[p + "et_lo"], v[p + "et_hi"] = t_me, window.end
        self.distinct.append(
            DistinctShape(
                kind,
                raw=False,
                head=head,
                whole=d1 < d2,
                tail=tail,
                edge_head=edge_head,
                edge_tail=edge_tail,
                hours=self.edge_hours,
            )
        )
        return CountKey(n)
