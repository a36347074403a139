"""The exported KPIs of every platform in one pass (for ``BiMetricsCollector``).

Facts and subscriptions come from the report statement grouped by platform; DAU and MAU
are whole UTC days, so they come from ``bi_first_active`` (or raw rows without rollups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ._keys import FactPart, WindowKey
from ._layout import Plan
from ._query_facts import read_fact, read_subscriptions_by_platform, round_money
from ._sql import day_number
from ._statement import StatementCache, execute
from .facts import ACTIVE, REVERSALS, SIGNUPS, TX
from .rollup_tables import LOOKBACK_DAYS, first_active
from .window import Window, utc_day_floor


@dataclass(slots=True)
class PlatformKpis:
    """The exported figures of one platform."""

    revenue: dict[str, Decimal] = field(default_factory=dict)
    attempts: int = 0
    succeeded: int = 0
    mrr: dict[str, Decimal] = field(default_factory=dict)
    active_subscriptions: int = 0
    dau: int = 0
    mau: int = 0
    signups: dict[str, int] = field(default_factory=dict)
    reversals: dict[str, int] = field(default_factory=dict)


def _active_by_platform(conn: Connection, days: Window, covered_until_hour: int | None) -> dict[str, int]:
    """Distinct active users per platform over whole UTC days."""
    d1, d2 = day_number(days.start), day_number(days.end)
    if covered_until_hour is not None and covered_until_hour >= d2 * 24 and d2 - 1 - d1 <= LOOKBACK_DAYS:
        fa = first_active
        query: Any = (
            sa.select(fa.c.platform, sa.func.sum(fa.c.users))
            .where(fa.c.kind == ACTIVE.kind, fa.c.anchor == d1, fa.c.day >= d1, fa.c.day < d2)
            .group_by(fa.c.platform)
        )
    else:
        src = ACTIVE.source
        users = (
            sa.select(src.c.platform, ACTIVE.user)
            .where(ACTIVE.time >= days.start, ACTIVE.time < days.end)
            .distinct()
            .subquery()
        )
        query = sa.select(users.c.platform, sa.func.count()).group_by(users.c.platform)
    return {p: int(n) for p, n in conn.execute(query)}


def platform_kpis(
    conn: Connection,
    window: Window,
    platforms: tuple[str, ...],
    covered_until_hour: int | None,
    statements: StatementCache,
) -> dict[str, PlatformKpis]:
    """Figures per configured platform: rates over ``window``, state at its end, DAU/MAU."""
    plan = Plan(covered_until_hour, None, by_platform=True)
    plan.add_window(window)
    instant = plan.add_instant(window.end)
    rows = execute(conn, statements.get(plan.shape()), plan.values)
    out = {p: PlatformKpis() for p in platforms}
    window_key = WindowKey(0)
    for row in read_fact(rows.of(FactPart(TX.name), window_key), TX):
        if (k := out.get(row["platform"])) is not None:
            k.revenue[row["currency"]] = k.revenue.get(row["currency"], Decimal(0)) + row["gross"]
            k.attempts += row["attempts"]
            k.succeeded += row["succeeded"]
    for row in read_fact(rows.of(FactPart(REVERSALS.name), window_key), REVERSALS):
        if (k := out.get(row["platform"])) is not None:
            k.reversals[row["status"]] = k.reversals.get(row["status"], 0) + row["count"]
    for row in read_fact(rows.of(FactPart(SIGNUPS.name), window_key), SIGNUPS):
        if (k := out.get(row["platform"])) is not None:
            k.signups[row["role"]] = k.signups.get(row["role"], 0) + row["count"]
    for (platform, currency), (count, mrr) in read_subscriptions_by_platform(rows, instant).items():
        if platform in out:
            out[platform].mrr[currency] = round_money(mrr)
            out[platform].active_subscriptions += count
    day_end = utc_day_floor(window.end)
    for attr, days in (("dau", 1), ("mau", 30)):
        counts = _active_by_platform(conn, Window(day_end - timedelta(days=days), day_end), covered_until_hour)
        for platform, n in counts.items():
            if platform in out:
                setattr(out[platform], attr, n)
    return out
