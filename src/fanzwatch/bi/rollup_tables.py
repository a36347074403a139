"""BI's own tables (``bi_*``), kept next to the platform tables they summarise.

- ``bi_<fact>_hourly`` / ``bi_<fact>_daily``: sums of each fact's measures per epoch
  hour/day, platform and dimensions (see ``facts``).
- ``bi_<fact>_running``: running totals of the daily sums — per complete day, platform and
  dimensions, the sums over every day up to and including it, with a row for every
  combination seen by then (dense), so the whole days ``[d1, d2)`` of a window are
  ``running(d2 - 1) - running(d1 - 1)``: two rows per combination, however long the window.
  Exact: computed in Python with ``Decimal`` from the daily sums.
- ``bi_user_days``: one row per (activity kind, user, platform, UTC day with activity),
  with the first and last active hour of that day and the previous active day (of the
  same user on the same platform) and its last hour.
- ``bi_user_hours``: per (activity kind, epoch hour, platform), how many user-days have
  their first / last active hour of the day there (derived from ``bi_user_days``): the
  distinct users of a partial first or last day of a window are then a sum of at most 24
  rows per platform instead of a scan of that day's users.
- ``bi_first_active``: for each (kind, platform, day) and anchor day ``a`` in
  ``[day - LOOKBACK_DAYS, day]``, how many users active on ``day`` had no activity on days
  ``[a, day)``. Summing it over a run of days counts distinct users without scanning users.
- ``bi_subscription_balance``: subscriptions and the sum of their period prices per currency
  and billing period at each UTC midnight (MRR is derived from it exactly, never stored).
- ``bi_cohort_hourly`` / ``bi_cohort_daily``: users who signed up in an hour (a complete
  day) and how many came back on day 1/7/30.
- ``bi_rollup_state``: how far the rollups reach; ``bi_rollup_generation``: a counter every
  refresh bumps (cross-process cache invalidation).

All keys are integers (epoch hours/days) so both backends compare and index them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from .. import schema
from .facts import FACTS, Fact

#: Distinct-user windows of up to this many whole days are served from rollups.
LOOKBACK_DAYS = 93
RETENTION_DAYS = (1, 7, 30)

metadata = sa.MetaData()


_SUFFIX = {"hour": "hourly", "day": "daily", "running": "running"}


def _fact_table(fact: Fact, grain: str) -> sa.Table:
    key = sa.Column("hour" if grain == "hour" else "day", sa.BigInteger, primary_key=True, autoincrement=False)
    return sa.Table(
        f"bi_{fact.name}_{_SUFFIX[grain]}",
        metadata,
        key,
        sa.Column("platform", schema.Platform, primary_key=True),
        *(sa.Column(d.name, d.type, primary_key=True, autoincrement=False) for d in fact.dims),
        *(sa.Column(m.name, m.type, nullable=False) for m in fact.measures),
    )


HOURLY: dict[str, sa.Table] = {f.name: _fact_table(f, "hour") for f in FACTS}
DAILY: dict[str, sa.Table] = {f.name: _fact_table(f, "day") for f in FACTS}
RUNNING: dict[str, sa.Table] = {f.name: _fact_table(f, "running") for f in FACTS}

user_days = sa.Table(
    "bi_user_days",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("user_id", schema.Id, primary_key=True, autoincrement=False),
    sa.Column("platform", schema.Platform, primary_key=True),
    sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("first_hour", sa.BigInteger, nullable=False),
    sa.Column("last_hour", sa.BigInteger, nullable=False),
    sa.Column("prev_day", sa.BigInteger, nullable=True),
    sa.Column("prev_last_hour", sa.BigInteger, nullable=True),
    sa.Index(
        "ix_bi_user_days_day",
        "kind",
        "day",
        "platform",
        postgresql_include=["first_hour", "last_hour", "prev_day", "prev_last_hour"],
    ),
    sa.Index("ix_bi_user_days_prev", "kind", "prev_day", "day", "platform", postgresql_include=["prev_last_hour"]),
    # A window's last partial day: only the users new to the window (no activity since the
    # anchor), not the whole day. Covering on both backends (keys, not INCLUDE).
    sa.Index("ix_bi_user_days_new", "kind", "day", "prev_day", "prev_last_hour", "first_hour", "platform"),
    # A window's first partial day: users of that day, before its first whole hour, who came back.
    sa.Index("ix_bi_user_days_back", "kind", "prev_day", "prev_last_hour", "day", "platform"),
    # The raw edge hours' users probed against the middle of the window: covering (keys, both
    # backends), so a probe reads one index leaf instead of the key index and the table's pages.
    sa.Index("ix_bi_user_days_probe", "kind", "user_id", "platform", "day", "first_hour", "last_hour"),
)

user_hours = sa.Table(
    "bi_user_hours",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("hour", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("platform", schema.Platform, primary_key=True),
    sa.Column("first_users", sa.BigInteger, nullable=False, doc="user-days whose first active hour is this one"),
    sa.Column("last_users", sa.BigInteger, nullable=False, doc="user-days whose last active hour is this one"),
)

first_active = sa.Table(
    "bi_first_active",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("anchor", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("platform", schema.Platform, primary_key=True),
    sa.Column("users", sa.BigInteger, nullable=False),
)

subscription_balance = sa.Table(
    "bi_subscription_balance",
    metadata,
    sa.Column("day", sa.BigInteger, primary_key=True, autoincrement=False, doc="state at this UTC midnight"),
    sa.Column("platform", schema.Platform, primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("months", sa.Integer, primary_key=True, autoincrement=False, doc="billing period"),
    sa.Column("active", sa.BigInteger, nullable=False),
    sa.Column("price", schema.Money, nullable=False, doc="sum of the period prices (exact)"),
)


def _cohort_table(grain: str) -> sa.Table:
    return sa.Table(
        f"bi_cohort_{_SUFFIX[grain]}",
        metadata,
        sa.Column(grain, sa.BigInteger, primary_key=True, autoincrement=False, doc=f"sign-up epoch {grain}"),
        sa.Column("platform", schema.Platform, primary_key=True),
        sa.Column("users", sa.BigInteger, nullable=False),
        *(sa.Column(f"d{n}", sa.BigInteger, nullable=False) for n in RETENTION_DAYS),
    )


cohort_hourly = _cohort_table("hour")
cohort_daily = _cohort_table("day")

rollup_state = sa.Table(
    "bi_rollup_state",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("covered_until_hour", sa.BigInteger, nullable=False, doc="rollups are complete for hours < this"),
    sa.Column("changes_seen_at", schema.UtcDateTime, nullable=False, doc="rows updated before this are rolled up"),
    sa.Column("lookback_days", sa.Integer, nullable=False),
)

#: One row, bumped by every refresh and rebuild (in any process): a server compares it with
#: the value its cached reports were computed at, so a ``fanzwatch bi rollup`` run elsewhere
#: still makes the next report fresh. Its own table, so adding it rebuilds nothing.
rollup_generation = sa.Table(
    "bi_rollup_generation",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("generation", sa.BigInteger, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Created:
    """What ``create_rollup_tables`` did."""

    replaced: bool  # every bi_* table was dropped and created afresh (the next refresh rebuilds)

    def __bool__(self) -> bool:  # the earlier API returned ``replaced`` as a bool
        return self.replaced


def create_rollup_tables(bind: Engine | Connection) -> Created:
    """Create the ``bi_*`` tables and indexes that do not exist yet (idempotent).

    Rollups are derived data: when an existing ``bi_*`` table has other columns than this
    version declares (an upgrade changed them), every ``bi_*`` table is dropped and created
    afresh, and the next refresh rebuilds them from the platform tables. Tables and indexes
    an upgrade only adds are created beside the existing ones (a table derived from others is
    filled by the next refresh, which finds it empty).

    Given a connection, everything runs in its transaction: ``RollupRefresher`` calls it
    under its lock, so two refreshers never create or drop the tables at the same time.
    """
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return create_rollup_tables(conn)
    conn = bind
    inspector = sa.inspect(conn)
    present = {t.name for t in metadata.sorted_tables if inspector.has_table(t.name)}
    stale = [
        name
        for name in present
        if {c["name"] for c in inspector.get_columns(name)} != set(metadata.tables[name].columns.keys())
    ]
    if stale:
        metadata.drop_all(conn)
        metadata.create_all(conn)
        return Created(replaced=True)
    metadata.create_all(conn)
    for name in present:
        known = {ix["name"] for ix in inspector.get_indexes(name)}
        for ix in metadata.tables[name].indexes:
            if ix.name not in known:
                ix.create(conn)
    return Created(replaced=False)


def drop_rollup_tables(engine: Engine) -> None:
    metadata.drop_all(engine)
