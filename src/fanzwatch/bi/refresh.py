"""Incremental, idempotent refresh of BI's rollup tables.

Each run extends the rollups to the last complete hour and recomputes, from the platform
tables, exactly the hours (and users' days) touched by rows whose ``updated_at`` moved
since the previous run, minus a safety margin for transactions that committed late.
Recomputing replaces rows (delete + insert of whole hours), so running it twice, or
after a crash half-way (everything is one database transaction), gives the same tables.

>>> refresher = RollupRefresher(engine, clock=SystemClock())   # doctest: +SKIP
>>> refresher.refresh().covered_until                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from ..core.clock import Clock
from ._plan import RefreshPlan
from ._refresh_facts import refresh_fact, refresh_running, refresh_subscription_balance
from ._refresh_users import affected_users, recompute_user_hours, refresh_activity, refresh_cohorts
from ._sql import hour_number, hour_start
from .facts import ACTIVE, FACTS, PAYING, SUB_STARTS, SUB_STOPS
from .rollup_tables import (
    LOOKBACK_DAYS,
    RUNNING,
    cohort_daily,
    create_rollup_tables,
    rollup_generation,
    rollup_state,
    user_days,
    user_hours,
)
from .rollup_tables import metadata as rollup_metadata

logger = logging.getLogger(__name__)
_LOCK_KEY = 0x66A2_0B1  # pg_advisory_xact_lock key: one refresher at a time per database


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """What one refresh did."""

    covered_until: datetime
    rebuilt: bool
    users_recomputed: int
    seconds: float


@dataclass(frozen=True, slots=True)
class RollupStatus:
    covered_until: datetime
    changes_seen_at: datetime


class RollupRefresher:
    """Keeps the ``bi_*`` rollups of one platform database current.

    ``engine`` must be allowed to create and write the ``bi_*`` tables (and read the
    platform tables). ``change_margin`` re-reads rows updated that long before the
    previous refresh, for writers whose transactions commit after they stamp ``updated_at``.
    """

    def __init__(self, engine: Engine, *, clock: Clock, change_margin: timedelta = timedelta(minutes=5)) -> None:
        self._engine = engine
        self._clock = clock
        self._margin = change_margin
        self._mutex = threading.Lock()
        self._created = False

    def refresh(self, *, rebuild: bool = False) -> RefreshResult:
        """Bring the rollups up to the last complete hour; ``rebuild`` recomputes everything."""
        with self._mutex:
            started = time.perf_counter()  # a duration, not a time of day: the real clock
            if not self._created:
                # Under the lock (another refresher, a second replica or `fanzwatch bi rollup`, may be
                # creating, replacing or filling the same tables right now) but in a short transaction
                # of its own: a replaced table's exclusive lock must not last the whole rebuild, or every
                # BI read on every replica would wait for it instead of reading raw until it is filled.
                with self._engine.begin() as conn:
                    self._lock(conn)
                    create_rollup_tables(conn)
                self._created = True
            with self._engine.begin() as conn:
                self._lock(conn)
                plan = self._plan(conn, rebuild=rebuild)
                if not plan.full and _underived(conn):  # an upgrade added it (or its filling was interrupted)
                    for activity in (ACTIVE, PAYING):
                        recompute_user_hours(conn, activity.kind, None)
                touched: dict[str, set[int]] = {}
                derived: list[str] = []  # tables an upgrade added, filled in full by this refresh
                for fact in FACTS:
                    touched[fact.name] = refresh_fact(conn, fact, plan)
                    if refresh_running(conn, fact, plan, touched[fact.name]) and not plan.full:
                        derived.append(RUNNING[fact.name].name)
                refresh_subscription_balance(conn, plan, touched[SUB_STARTS.name] | touched[SUB_STOPS.name])
                users = refresh_activity(conn, ACTIVE, plan)
                if refresh_cohorts(conn, plan):
                    derived.append(cohort_daily.name)
                users += refresh_activity(conn, PAYING, plan)
                conn.execute(sa.delete(affected_users))
                self._save(conn, plan)

            if self._engine.dialect.name == "postgresql" and (plan.full or derived):
                self._vacuum(None if plan.full else derived)
            result = RefreshResult(
                covered_until=hour_start(plan.c_new),
                rebuilt=plan.full,
                users_recomputed=users,
                seconds=time.perf_counter() - started,
            )
            logger.info(
                "bi rollups refreshed to %s (rebuilt=%s, users=%d, %.3fs)",
                result.covered_until.isoformat(),
                result.rebuilt,
                result.users_recomputed,
                result.seconds,
            )
            return result

    def _vacuum(self, tables: list[str] | None) -> None:
        """After a rebuild (``None``: every table) or the filling of tables an upgrade added:
        statistics for the planner and a visibility map for index-only scans.

        Until autovacuum reaches fresh tables the planner misjudges every rollup scan and
        index-only scans visit the heap; VACUUM cannot run in a transaction, hence autocommit.
        """
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in tables if tables is not None else [t.name for t in rollup_metadata.sorted_tables]:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {name}")

    def _lock(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
            # Large sorts for the window functions of a rebuild; JIT does not pay off for these.
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            conn.exec_driver_sql("SET LOCAL jit = off")

    def _plan(self, conn: Connection, *, rebuild: bool) -> RefreshPlan:
        now = self._clock.now()
        c_new = hour_number(now)
        row = conn.execute(sa.select(rollup_state).where(rollup_state.c.name == "default")).first()
        if row is None or rebuild or row.lookback_days != LOOKBACK_DAYS:
            return RefreshPlan(c_old=None, c_new=c_new, since=None)
        c_old = int(row.covered_until_hour)
        return RefreshPlan(c_old=c_old, c_new=max(c_new, c_old), since=row.changes_seen_at - self._margin)

    def _save(self, conn: Connection, plan: RefreshPlan) -> None:
        conn.execute(sa.delete(rollup_state).where(rollup_state.c.name == "default"))
        conn.execute(
            sa.insert(rollup_state).values(
                name="default",
                covered_until_hour=plan.c_new,
                changes_seen_at=self._clock.now(),
                lookback_days=LOOKBACK_DAYS,
            )
        )
        # in the refresh's transaction (and under its lock): readers see the new rollups and
        # the new generation together
        g = rollup_generation
        bumped = conn.execute(sa.update(g).where(g.c.name == "default").values(generation=g.c.generation + 1)).rowcount
        if not bumped:  # first refresh since the table was (re)created: start where no earlier counter reached
            conn.execute(sa.insert(g).values(name="default", generation=first_generation()))


def _underived(conn: Connection) -> bool:
    """``bi_user_hours`` is empty while ``bi_user_days`` is not: derive it (in this refresh's transaction)."""
    has = [
        conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is not None
        for t in (user_hours, user_days)
    ]
    return not has[0] and has[1]


def read_status(conn: Connection) -> RollupStatus | None:
    """How far the rollups reach, or None when they were never built (or the tables are missing)."""
    try:
        row = conn.execute(sa.select(rollup_state).where(rollup_state.c.name == "default")).first()
    except sa.exc.DBAPIError:
        conn.rollback()
        return None
    if row is None or row.lookback_days != LOOKBACK_DAYS:
        return None
    return RollupStatus(covered_until=hour_start(int(row.covered_until_hour)), changes_seen_at=row.changes_seen_at)


def first_generation() -> int:
    """The generation a fresh ``bi_rollup_generation`` starts at: the wall-clock time in microseconds.

    A rebuild recreates the table, and a counter restarting at 1 could repeat a value a server
    already saw (and miss the rebuild); a start at "now in µs" exceeds every earlier start plus
    one per refresh since. (Wall-clock, not the refresher's clock: a frozen test clock must not
    make two starts equal.)
    """
    return time.time_ns() // 1_000


def read_generation(conn: Connection) -> int | None:
    """The rollups' generation: moved by every refresh and rebuild, by any process.

    0 while there is none yet (no rollup tables, or no refresh so far), so the first refresh
    counts as a move for a server that was serving raw reports; None when it cannot be read.
    """
    g = rollup_generation
    try:
        value = conn.execute(sa.select(g.c.generation).where(g.c.name == "default")).scalar()
    except sa.exc.DBAPIError:
        conn.rollback()
        try:
            return None if sa.inspect(conn).has_table(g.name) else 0
        except sa.exc.DBAPIError:
            conn.rollback()
            return None
    return 0 if value is None else int(value)
