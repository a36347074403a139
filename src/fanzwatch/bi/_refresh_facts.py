"""Refresh of the additive fact rollups (hourly, daily, running totals) and the subscription balance."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ._plan import RefreshPlan, in_int_ranges, merge_ranges
from ._query_facts import money
from ._ranges import chunks, to_ranges
from ._rollup_write import bulk_insert, is_empty, roll_up_days
from ._sql import epoch_hour, hour_start
from .facts import SUB_STARTS, SUB_STOPS, Fact
from .rollup_tables import DAILY, HOURLY, RUNNING, subscription_balance

_Key = tuple[str, str, int]  # platform, currency, billing months


def _aggregate_select(fact: Fact, cond: sa.ColumnElement[bool]) -> sa.Select[Any]:
    hour = epoch_hour(fact.time)
    dims = [d.expr for d in fact.dims]
    return (
        sa.select(
            hour.label("hour"),
            fact.platform,
            *(d.expr.label(d.name) for d in fact.dims),
            *(sa.func.sum(m.expr).label(m.name) for m in fact.measures),
        )
        .where(cond)
        .group_by(hour, fact.platform, *dims)
        .order_by(hour, fact.platform, *dims)  # written in key order: a range of hours is a few pages
    )


def _columns(fact: Fact, grain: str) -> list[str]:
    return [grain, "platform", *(d.name for d in fact.dims), *(m.name for m in fact.measures)]


def refresh_fact(conn: Connection, fact: Fact, plan: RefreshPlan) -> set[int]:
    """Recompute the fact's hourly and daily rows that may have changed; return the days touched."""
    hourly, daily = HOURLY[fact.name], DAILY[fact.name]
    if plan.full:
        conn.execute(sa.delete(hourly))
        conn.execute(sa.delete(daily))
        select = _aggregate_select(fact, fact.in_range(None, plan.new_until))
        conn.execute(sa.insert(hourly).from_select(_columns(fact, "hour"), select))
        day_ranges = [(-(2**40), plan.complete_days_until)]
        touched: set[int] = set()
        first = conn.execute(sa.select(sa.func.min(hourly.c.hour))).scalar()
        if first is not None:
            touched = set(range(int(first) // 24, plan.complete_days_until + 1))
    else:
        changed = conn.execute(
            sa.select(epoch_hour(fact.time)).where(plan.changed(fact.source, fact.time)).distinct()
        ).scalars()
        hour_ranges = merge_ranges(to_ranges(int(h) for h in changed) + plan.new_hours())
        for group in chunks(hour_ranges):
            conn.execute(sa.delete(hourly).where(in_int_ranges(hourly.c.hour, group)))
            cond = sa.or_(*(fact.in_range(hour_start(a), hour_start(b)) for a, b in group))
            conn.execute(sa.insert(hourly).from_select(_columns(fact, "hour"), _aggregate_select(fact, cond)))
        touched = {h // 24 for a, b in hour_ranges for h in range(a, b)}
        complete = {d for d in touched if d < plan.complete_days_until}
        day_ranges = merge_ranges(to_ranges(complete) + plan.newly_complete_days())
    roll_up_days(conn, hourly, daily, [d.name for d in fact.dims], [m.name for m in fact.measures], day_ranges)
    return touched


def refresh_running(conn: Connection, fact: Fact, plan: RefreshPlan, touched_days: set[int]) -> bool:
    """Running totals of the fact's complete days, from the first touched day on (every day on a rebuild).

    Dense: every (platform, dims) combination seen up to a day has a row for that day and every
    later complete day, so a window reads the two ends of its whole days. Sums are exact
    (``Decimal``/``int`` in Python, whatever the backend sums in). A table that is empty while
    the daily sums are not (an upgrade added it) is computed in full, without a rebuild.
    Returns whether it was computed in full.
    """
    daily, running = DAILY[fact.name], RUNNING[fact.name]
    top = plan.complete_days_until
    full = plan.full or is_empty(conn, running)
    if not full and not touched_days:
        return False
    lo = None if full else min(touched_days)
    if lo is not None and lo >= top:
        return False  # only the current, incomplete day moved
    dims = [daily.c.platform, *(daily.c[d.name] for d in fact.dims)]
    kinds = [m.money for m in fact.measures]
    state: dict[tuple[Any, ...], list[Any]] = {}
    if lo is None:
        conn.execute(sa.delete(running))
        lo = conn.execute(sa.select(sa.func.min(daily.c.day))).scalar()
        if lo is None:
            return True
        lo = int(lo)
    else:
        ends = sa.select(*(running.c[c.name] for c in dims), *(running.c[m.name] for m in fact.measures))
        for row in conn.execute(ends.where(running.c.day == lo - 1)):
            state[tuple(row[: len(dims)])] = _exact(row[len(dims) :], kinds)
        conn.execute(sa.delete(running).where(running.c.day >= lo))
    deltas: dict[int, list[tuple[tuple[Any, ...], list[Any]]]] = defaultdict(list)
    later = sa.select(daily.c.day, *dims, *(daily.c[m.name] for m in fact.measures))
    for row in conn.execute(later.where(daily.c.day >= lo, daily.c.day < top)):
        deltas[int(row[0])].append((tuple(row[1 : 1 + len(dims)]), _exact(row[1 + len(dims) :], kinds)))
    rows: list[tuple[Any, ...]] = []
    for day in range(lo, top):
        for key, values in deltas.get(day, ()):
            total = state.get(key)
            if total is None:
                state[key] = values
            else:
                for i, v in enumerate(values):
                    total[i] += v
        rows += [(day, *key, *values) for key, values in state.items()]
        if len(rows) >= 50_000:
            bulk_insert(conn, running, rows)
            rows = []
    if rows:
        bulk_insert(conn, running, rows)
    return full


def _exact(values: Any, money_flags: list[bool]) -> list[Any]:
    return [money(v) if is_money else int(v or 0) for v, is_money in zip(values, money_flags, strict=True)]


def refresh_subscription_balance(conn: Connection, plan: RefreshPlan, touched_days: set[int]) -> None:
    """Subscriptions and their period prices per (platform, currency, months) at each midnight.

    Up to the last complete day. Prices are exact sums (no per-subscription rounding).

    The state at midnight D is the sum of start minus stop deltas of all days before D.
    """
    bal = subscription_balance
    top = plan.complete_days_until
    starts, stops = DAILY[SUB_STARTS.name], DAILY[SUB_STOPS.name]
    if plan.full:
        conn.execute(sa.delete(bal))
        firsts = [conn.execute(sa.select(sa.func.min(t.c.day))).scalar() for t in (starts, stops)]
        known = [int(f) for f in firsts if f is not None]
        if not known:
            return
        lo = min(known) - 1
    else:
        if not touched_days:
            return
        lo = min(touched_days)
    conn.execute(sa.delete(bal).where(bal.c.day > lo))
    state: dict[_Key, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    deltas: dict[int, list[tuple[_Key, int, Decimal]]] = defaultdict(list)
    for table, sign in ((starts, 1), (stops, -1)):
        dims = (table.c.platform, table.c.currency, table.c.months)
        base = conn.execute(
            sa.select(*dims, sa.func.sum(table.c.count), sa.func.sum(table.c.price))
            .where(table.c.day <= lo)
            .group_by(*dims)
        )
        for platform, currency, months, count, price in base:
            state[(platform, currency, int(months))][0] += sign * int(count)
            state[(platform, currency, int(months))][1] += sign * money(price)
        later = conn.execute(
            sa.select(table.c.day, *dims, table.c.count, table.c.price).where(table.c.day > lo, table.c.day < top)
        )
        for day, platform, currency, months, count, price in later:
            deltas[int(day)].append(((platform, currency, int(months)), sign * int(count), sign * money(price)))
    rows: list[dict[str, Any]] = []
    for day in range(lo + 1, top + 1):
        for (platform, currency, months), (active, price) in state.items():
            rows.append(
                {"day": day, "platform": platform, "currency": currency, "months": months, "active": active,
                 "price": price}
            )  # fmt: skip
        for key, count, price in deltas.get(day, ()):
            state[key][0] += count
            state[key][1] += price
    for i in range(0, len(rows), 5000):
        conn.execute(sa.insert(bal), rows[i : i + 5000])
