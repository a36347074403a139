"""Creating the rollup tables: under the refresher's lock, and what ``create_rollup_tables`` says it did;
the earlier partial-day path as a parameter of each plan."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fanzwatch.bi import BiService, RollupRefresher, Window, _layout, create_rollup_tables
from fanzwatch.bi import rollup_tables as rt
from fanzwatch.bi._layout import Plan
from fanzwatch.bi._sql import hour_number
from fanzwatch.bi.refresh import _LOCK_KEY
from fanzwatch.bi.rollup_tables import Created
from fanzwatch.core import FrozenClock

from .randomdata import PLATFORMS, populate

START = datetime(2026, 1, 1, tzinfo=UTC)


def _bi_tables(engine: sa.Engine) -> set[str]:
    return {name for name in sa.inspect(engine).get_table_names() if name.startswith("bi_")}


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_refresher_creates_no_table_while_another_holds_the_lock(engine: sa.Engine) -> None:
    """Two replicas start at once: the second waits for the first's lock before it creates,
    replaces or fills a table (a stale-column check and ``CREATE TABLE`` racing would fail)."""
    populate(engine, start=START, days=3, seed=3)
    refresher = RollupRefresher(engine, clock=FrozenClock(START + timedelta(days=2, minutes=5)))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            refresher.refresh()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    with engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))  # another refresh under way
        second = threading.Thread(target=run)
        second.start()
        time.sleep(1.0)
        assert second.is_alive(), errors
        assert _bi_tables(engine) == set()  # it waits for the lock before touching a table
        holder.rollback()  # the first refresh ends: its lock goes
        second.join(timeout=120)
    assert not second.is_alive() and errors == []
    assert _bi_tables(engine) == {t.name for t in rt.metadata.sorted_tables}


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_readers_are_not_blocked_while_a_replaced_table_is_refilled(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade replaces a stale table: its exclusive lock ends with the replacing transaction,
    not with the whole rebuild after it, so a report on another replica reads meanwhile."""
    from fanzwatch.bi import refresh as refresh_module

    populate(engine, start=START, days=3, seed=4)
    clock = FrozenClock(START + timedelta(days=2, minutes=5))
    RollupRefresher(engine, clock=clock).refresh()
    with engine.begin() as conn:  # an upgrade that changes a table's columns
        conn.execute(sa.text("ALTER TABLE bi_rollup_state ADD COLUMN extra INTEGER"))
    reads: list[int] = []
    real = refresh_module.refresh_fact

    def observed(conn: sa.Connection, fact: object, plan: object) -> set[int]:
        if not reads:  # mid-rebuild: what another replica's report does
            with engine.connect() as other:
                other.execute(sa.text("SET lock_timeout = '2s'"))
                reads.append(other.execute(sa.text("SELECT count(*) FROM bi_rollup_state")).scalar_one())
        return real(conn, fact, plan)  # type: ignore[arg-type]

    monkeypatch.setattr(refresh_module, "refresh_fact", observed)
    result = RollupRefresher(engine, clock=clock).refresh()
    assert result.rebuilt and reads == [0]  # read (empty: the replaced table), not blocked


def test_create_rollup_tables_says_whether_it_replaced_them(engine: sa.Engine) -> None:
    assert create_rollup_tables(engine) == Created(replaced=False)  # fresh
    with engine.begin() as conn:
        rt.user_hours.drop(conn)  # an upgrade that only adds a table
    assert create_rollup_tables(engine) == Created(replaced=False)
    assert "bi_user_hours" in _bi_tables(engine)
    with engine.begin() as conn:  # an upgrade that changes a table's columns
        conn.execute(sa.text("ALTER TABLE bi_rollup_state ADD COLUMN extra INTEGER"))
    with engine.connect() as conn:
        assert create_rollup_tables(conn) == Created(replaced=True)  # on a connection: its transaction
        conn.commit()
    assert "extra" not in {c["name"] for c in sa.inspect(engine).get_columns("bi_rollup_state")}


def test_the_earlier_partial_day_path_is_chosen_per_plan() -> None:
    window = Window(START + timedelta(hours=5, minutes=30), START + timedelta(days=3, hours=2, minutes=15))
    covered = hour_number(START + timedelta(days=10))
    shapes = {}
    for edge_hours in (True, False):
        plan = Plan(covered, None, edge_hours=edge_hours)
        plan.add_distinct("active", window)
        shapes[edge_hours] = plan.shape().distinct
    assert [d.hours for d in shapes[True]] == [True] and [d.hours for d in shapes[False]] == [False]
    assert Plan(covered).edge_hours  # the per-hour counts by default
    assert not hasattr(_layout, "EDGE_HOURS")  # no module switch left to flip


def test_the_generation_is_0_before_any_refresh_and_none_when_unread(engine: sa.Engine, tmp_path: Path) -> None:
    """As ``BiService.rollup_generation`` says: 0 without tables or refresh, None unused or unreadable."""
    clock = FrozenClock(START + timedelta(days=2))
    assert BiService(engine, platforms=PLATFORMS, clock=clock).rollup_generation() == 0  # no bi_* tables
    create_rollup_tables(engine)
    assert BiService(engine, platforms=PLATFORMS, clock=clock).rollup_generation() == 0  # tables, no refresh
    RollupRefresher(engine, clock=clock).refresh()
    assert (BiService(engine, platforms=PLATFORMS, clock=clock).rollup_generation() or 0) > 0
    assert BiService(engine, platforms=PLATFORMS, clock=clock, use_rollups=False).rollup_generation() is None
    gone = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")  # its directory does not exist
    assert BiService(gone, platforms=PLATFORMS, clock=clock).rollup_generation() is None
