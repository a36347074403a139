"""Rollups give exactly the raw-SQL figures, and incremental refreshes equal a rebuild.

Seeded random data (tests/bi/randomdata.py) over 40 days on three platforms; windows of
random starts and lengths (partial hours, partial days, whole days, > 30 days) are
computed twice by ``KpiEngine``: from raw rows only, and from rollups plus raw edges.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import KpiEngine, RollupRefresher, Window
from fanzwatch.bi import rollup_tables as rt
from fanzwatch.bi._query_facts import money
from fanzwatch.bi._sql import hour_number
from fanzwatch.bi.facts import FACTS
from fanzwatch.bi.kpis import Converter
from fanzwatch.bi.window import split_window
from fanzwatch.core import FrozenClock

from .randomdata import PLATFORMS, populate

START = datetime(2026, 1, 1, tzinfo=UTC)


def _windows(seed: int, n: int) -> list[Window]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        start = START + timedelta(seconds=rng.randrange(-86400, 42 * 86400), microseconds=rng.randrange(10**6))
        if rng.random() < 0.3:
            start = start.replace(minute=0, second=0, microsecond=0)
        length = rng.choice([3600, 86400, 7 * 86400, 30 * 86400, rng.randrange(60, 40 * 86400)])
        out.append(Window(start, start + timedelta(seconds=length)))
    return out


def _both_ways(
    engine: sa.Engine, covered: datetime, windows: list[Window], platform: str | None, *, edge_hours: bool = True
) -> tuple[Any, Any]:
    convert = Converter({"EUR": Decimal("1.08"), "JPY": Decimal("0.0067")}, "USD")
    with engine.connect() as conn:
        raw = KpiEngine(conn, covered_until_hour=None, default_fee_rate=Decimal("0.2")).metrics(
            windows, platform, convert
        )
        rolled = KpiEngine(
            conn, covered_until_hour=hour_number(covered), default_fee_rate=Decimal("0.2"), edge_hours=edge_hours
        ).metrics(windows, platform, convert)
    return raw, rolled


def _rollup_tables(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()))
            for t in rt.metadata.tables.values()
            if t.name not in {"bi_rollup_state", "bi_rollup_generation"}  # bookkeeping, not figures
        }


def test_rollups_equal_raw_sql_for_random_windows(engine: sa.Engine) -> None:
    populate(engine, start=START, days=40)
    covered = RollupRefresher(engine, clock=FrozenClock(START + timedelta(days=35, minutes=17))).refresh()
    assert covered.covered_until == START + timedelta(days=35)
    active, revenue = 0, Decimal(0)
    for i, platform in enumerate((None, PLATFORMS[1])):
        windows = _windows(seed=i, n=10)
        raw, rolled = _both_ways(engine, covered.covered_until, windows, platform)
        for window, a, b in zip(windows, raw, rolled, strict=True):
            assert a == b, (window, platform)
            # the comparison is not vacuous: every platform's windows hold real activity
            active += a.users.active_users
            revenue += a.revenue.total
        assert active > 0 and revenue > 0, platform


def _mutate(engine: sa.Engine, now: datetime, step: int) -> None:
    """Late changes in hours already rolled up: refunds, late rows, cancellations, new users."""
    t, s = schema.transactions, schema.subscriptions
    with engine.begin() as conn:
        ids = conn.execute(
            sa.select(t.c.id).where(t.c.status == "completed").order_by(t.c.id).limit(3).offset(step * 3)
        )
        conn.execute(
            sa.update(t)
            .where(t.c.id.in_(ids.scalars().all()))
            .values(status="refunded", refunded_at=now - timedelta(minutes=30), updated_at=now)
        )
        conn.execute(
            sa.insert(schema.sessions),
            [
                {"platform": "fanz-1", "user_id": 3, "started_at": now - timedelta(days=d, hours=3), "updated_at": now}
                for d in (0, 2, 9)
            ],
        )
        conn.execute(
            sa.insert(t),
            [
                {
                    "platform": "fanz-3",
                    "type": "tip",
                    "amount": Decimal("3.33"),
                    "currency": "EUR",
                    "status": "completed",
                    "creator_id": 6,
                    "fan_id": 2,
                    "created_at": now - timedelta(days=d, hours=1),
                    "updated_at": now,
                }
                for d in (1, 4)
            ],
        )
        conn.execute(
            sa.insert(schema.users),
            [
                {"platform": "fanz-3", "role": "fan", "created_at": now - timedelta(days=d), "updated_at": now}
                for d in (3, 20)
            ],
        )
        sid = conn.execute(
            sa.select(s.c.id).where(s.c.status == "active", s.c.started_at < now - timedelta(hours=1)).limit(1)
        ).scalar_one()
        conn.execute(sa.update(s).where(s.c.id == sid).values(status="cancelled", cancelled_at=now, updated_at=now))


def test_incremental_refreshes_equal_a_rebuild_and_raw_sql(engine: sa.Engine) -> None:
    populate(engine, start=START, days=40, seed=11)
    clock = FrozenClock(START + timedelta(days=30, minutes=17))
    refresher = RollupRefresher(engine, clock=clock)
    assert refresher.refresh().rebuilt
    for step, hours in enumerate((1, 3, 26, 50)):
        clock.advance(timedelta(hours=hours))
        _mutate(engine, clock.now(), step)
        result = refresher.refresh()
        assert not result.rebuilt
    incremental = _rollup_tables(engine)
    again = refresher.refresh()  # nothing changed: idempotent
    assert not again.rebuilt
    assert _rollup_tables(engine) == incremental
    windows = _windows(seed=5, n=10)
    raw, rolled = _both_ways(engine, again.covered_until, windows, None)
    assert raw == rolled
    assert refresher.refresh(rebuild=True).rebuilt
    assert _rollup_tables(engine) == incremental


def test_a_late_refund_leaves_its_payment_window_unchanged_and_lands_in_its_own(engine: sa.Engine) -> None:
    populate(engine, start=START, days=10, seed=3)
    clock = FrozenClock(START + timedelta(days=12))
    refresher = RollupRefresher(engine, clock=clock)
    refresher.refresh()
    window = Window(START, START + timedelta(days=10))
    refund_hour = Window(clock.now() - timedelta(minutes=20), clock.now() + timedelta(minutes=40))
    before, _ = _both_ways(engine, clock.now(), [window, refund_hour], None)
    t = schema.transactions
    with engine.begin() as conn:
        tx_id, amount = conn.execute(
            sa.select(t.c.id, t.c.amount).where(t.c.status == "completed", t.c.currency == "USD").limit(1)
        ).one()
        clock.advance(timedelta(minutes=10))
        conn.execute(
            sa.update(t)
            .where(t.c.id == tx_id)
            .values(status="refunded", refunded_at=clock.now(), updated_at=clock.now())
        )
    refresher.refresh()
    after_raw, after_rolled = _both_ways(engine, clock.now(), [window, refund_hour], None)
    assert after_rolled == after_raw
    # the payment's window keeps its gross (and paying users); the refund is counted when it happened
    assert after_rolled[0].revenue == before[0].revenue
    assert after_rolled[0].revenue.by_currency["USD"].revenue > 0
    was, now = before[1].revenue, after_rolled[1].revenue
    assert (now.refunds - was.refunds, now.refund_amount - was.refund_amount) == (1, amount)
    assert now.net - was.net == -amount


def test_an_upgrade_adding_the_hour_counts_derives_them_without_a_rebuild(engine: sa.Engine) -> None:
    """Rollups built before ``bi_user_hours`` existed: the next refresh fills it from ``bi_user_days``."""
    populate(engine, start=START, days=20, seed=7)
    clock = FrozenClock(START + timedelta(days=18, minutes=17))
    assert RollupRefresher(engine, clock=clock).refresh().rebuilt
    rebuilt = _rollup_tables(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_bi_user_days_new"))
        rt.user_hours.drop(conn)
    result = RollupRefresher(engine, clock=clock).refresh()  # a new process: it creates what is missing
    assert not result.rebuilt
    assert _rollup_tables(engine) == rebuilt
    assert "ix_bi_user_days_new" in {ix["name"] for ix in sa.inspect(engine).get_indexes("bi_user_days")}
    windows = _windows(seed=9, n=12)
    raw, rolled = _both_ways(engine, result.covered_until, windows, None)
    assert rolled == raw
    _, earlier = _both_ways(engine, result.covered_until, windows, None, edge_hours=False)
    assert earlier == raw  # the earlier per-user path: the same figures


def test_running_totals_are_the_daily_sums_up_to_each_complete_day(engine: sa.Engine) -> None:
    """Every ``bi_<fact>_running`` row is the sum of the fact's daily rows up to its day, and every
    combination seen by a day has a row on it and on each later complete day (none after)."""
    populate(engine, start=START, days=12, seed=13)
    result = RollupRefresher(engine, clock=FrozenClock(START + timedelta(days=10, hours=5))).refresh()
    top = hour_number(result.covered_until) // 24  # days < top are complete
    checked = 0
    with engine.connect() as conn:
        for fact in FACTS:
            daily, running = rt.DAILY[fact.name], rt.RUNNING[fact.name]
            keys = ["platform", *(d.name for d in fact.dims)]
            names = [m.name for m in fact.measures]
            expected: dict[tuple[Any, ...], list[Any]] = {}
            by_day: dict[int, dict[tuple[Any, ...], list[Any]]] = {}
            days: dict[int, list[Any]] = {}
            for r in conn.execute(sa.select(daily).where(daily.c.day < top)).mappings():
                days.setdefault(int(r["day"]), []).append(r)
            first = min(days) if days else top
            for day in range(first, top):
                for r in days.get(day, []):
                    total = expected.setdefault(tuple(r[k] for k in keys), [0] * len(names))
                    for i, m in enumerate(fact.measures):
                        total[i] += money(r[m.name]) if m.money else int(r[m.name])
                by_day[day] = {k: list(v) for k, v in expected.items()}
            got: dict[int, dict[tuple[Any, ...], list[Any]]] = {}
            for r in conn.execute(sa.select(running)).mappings():
                values = [money(r[m.name]) if m.money else int(r[m.name]) for m in fact.measures]
                got.setdefault(int(r["day"]), {})[tuple(r[k] for k in keys)] = values
            assert got == by_day, fact.name
            assert names and all(day < top for day in got)
            checked += sum(len(v) for v in got.values())
    assert checked > 1000


def _whole_day_windows() -> list[Window]:
    """Windows whose whole days start at the data's first day, end at the last complete day, begin
    or end at midnight or 1 µs around it, and whose previous window shares a running row with them."""
    us, day = timedelta(microseconds=1), timedelta(days=1)
    midnight = START + timedelta(days=20)
    out = [
        Window(START, START + 3 * day),  # the first whole day: nothing runs before it
        Window(START - day, START + day + us),
        Window(START + 2 * day, START + 29 * day),  # the last complete day (rollups reach day 29)
        Window(START + 26 * day + timedelta(hours=5, minutes=3), START + 29 * day + timedelta(minutes=30)),
    ]
    for delta in (-us, timedelta(0), us):
        for length in (day, 2 * day, 7 * day, 11 * day + timedelta(hours=3)):
            out.append(Window.ending(midnight + delta, length))
            out.append(Window(midnight + delta, midnight + delta + length))
    return out


def test_whole_days_from_running_totals_equal_raw_sql_at_their_edges(engine: sa.Engine) -> None:
    populate(engine, start=START, days=30, seed=17)
    covered = RollupRefresher(engine, clock=FrozenClock(START + timedelta(days=29, minutes=41))).refresh()
    windows = _whole_day_windows()
    covered_hour = hour_number(covered.covered_until)
    assert sum(bool(split_window(w, covered_hour).days) for w in windows) >= 20  # whole days: running totals
    for platform in (None, PLATFORMS[2]):
        for pair in zip(windows[::2], windows[1::2], strict=True):  # two windows per statement, like a report
            raw, rolled = _both_ways(engine, covered.covered_until, list(pair), platform)
            assert rolled == raw, (pair, platform)
    raw, _ = _both_ways(engine, covered.covered_until, windows[2:3], None)
    assert raw[0].revenue.gross > 0 and raw[0].users.cohort_size > 0 and raw[0].users.retention["day_7"].eligible > 0


def test_an_upgrade_adding_running_totals_and_daily_cohorts_derives_them_without_a_rebuild(engine: sa.Engine) -> None:
    """Rollups built before ``bi_<fact>_running`` and ``bi_cohort_daily`` existed: the next refresh fills them."""
    populate(engine, start=START, days=20, seed=19)
    clock = FrozenClock(START + timedelta(days=18, minutes=17))
    assert RollupRefresher(engine, clock=clock).refresh().rebuilt
    rebuilt = _rollup_tables(engine)
    with engine.begin() as conn:
        for table in [*rt.RUNNING.values(), rt.cohort_daily]:
            table.drop(conn)
    result = RollupRefresher(engine, clock=clock).refresh()  # a new process: it creates what is missing
    assert not result.rebuilt
    assert _rollup_tables(engine) == rebuilt
    windows = _windows(seed=21, n=12)
    raw, rolled = _both_ways(engine, result.covered_until, windows, None)
    assert rolled == raw
