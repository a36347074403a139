"""The report as one SQL statement per ``ReportShape``, built once and reused.

Branches, each aggregated by the database and tagged with the integer code of a typed
``_keys.Tag`` (what it computes, for which window/instant/count):

- every fact over each window's raw ranges, rollup hours and whole days (``WindowKey``), the
  whole days as the difference of two running totals (``bi_<fact>_running``);
- subscriptions recurring at each instant: the midnight balance plus the day's deltas,
  or straight from the subscriptions (``InstantKey``);
- the sign-up cohort of each window with its day 1/7/30 retention (``WindowKey``);
- distinct users per requested count (``CountKey``; method in ``_query_users``).

Every value is a bind parameter written into the branch that uses it, so the planner
sees real bounds (index range scans, nested-loop probes) while the statement text stays
the same for every report of the same shape: SQLAlchemy builds and compiles it once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util

from .. import schema
from ._keys import (
    CohortPart,
    CountKey,
    FactPart,
    InstantKey,
    Key,
    Part,
    ReportRows,
    Row,
    SubsPart,
    Tag,
    UsersPart,
    WindowKey,
)
from ._layout import DistinctShape, ReportShape
from ._sql import epoch_day
from .facts import ACTIVE, FACTS, PAYING, SUB_STARTS, SUB_STOPS, Activity, Fact
from .rollup_tables import (
    HOURLY,
    RETENTION_DAYS,
    RUNNING,
    cohort_daily,
    cohort_hourly,
    first_active,
    subscription_balance,
    user_days,
    user_hours,
)

MAX_DIMS, MAX_MEASURES = 4, 8
MAX_BRANCHES = 400
_NUM = sa.Numeric(38, 10)
_T = schema.UtcDateTime()
_I = sa.BigInteger()
_S = sa.String()
ACTIVITIES = {a.kind: a for a in (ACTIVE, PAYING)}


@dataclass(frozen=True, slots=True)
class Columns:
    """The dimension and measure names of one part's rows."""

    dims: tuple[str, ...]
    measures: tuple[str, ...]


class ReportStatement:
    """The statement of one ``ReportShape``; ``parts`` says how to read each part's rows."""

    def __init__(self, shape: ReportShape) -> None:
        self.shape = shape
        self.parts: dict[Part, Columns] = {}
        self.tags: list[Tag] = []  # a tag's code in the statement is its index here
        self._codes: dict[Tag, int] = {}
        self._binds: dict[str, Any] = {}
        branches: list[Any] = []
        for fact in FACTS:
            for grain, letter, count in (("raw", "r", "raw"), ("hour", "h", "hours"), ("day", "d", "days")):
                ranges = [
                    (WindowKey(i), f"w{i}_{letter}{j}")
                    for i, w in enumerate(shape.windows)
                    for j in range(getattr(w, count))
                ]
                if not ranges:
                    continue
                part = FactPart(fact.name)
                if grain == "day":  # one branch over the running totals at both ends of every window
                    branches.append(self._fact_running(part, fact, ranges))
                elif shape.disjoint:  # one branch; a row's window from a CASE over the ranges
                    branches.append(self._fact_multi(part, fact, grain, ranges))
                else:
                    branches += [self._fact(part, key, fact, grain, p) for key, p in ranges]
        for k, inst in enumerate(shape.instants):
            branches += self._instant(k, inst.rollup, inst.hours, inst.raw)
        for i, c in enumerate(shape.cohorts):
            key, last_day = WindowKey(i), f"c{i}_last_day"
            if c.raw:
                branches.append(self._cohort_raw(key, [f"c{i}_r{j}" for j in range(c.raw)], last_day))
            if c.hours:
                branches.append(self._cohort_rollup(key, "hour", [f"c{i}_h{j}" for j in range(c.hours)], last_day))
            if c.days:
                branches.append(self._cohort_rollup(key, "day", [f"c{i}_d"], last_day))
        for n, d in enumerate(shape.distinct):
            branches += self._distinct(n, d)
        # Two statements: branches reading only rollups (small integer ranges on their keys: the
        # same plan serves every bound, so PostgreSQL plans it once per connection) and branches
        # reading platform tables (planned every run with the real bounds). SQLite refuses
        # compound SELECTs of more than 500 terms: a huge plan runs as several.
        self.statements: list[Any] = []
        self.generic: list[bool] = []  # per statement: plan once (rollups only) or per run
        raw = [_reads_platform_tables(b) for b in branches]
        for generic in (True, False):
            group = [b for b, r in zip(branches, raw, strict=True) if r != generic]
            for i in range(0, len(group), MAX_BRANCHES):
                self.statements.append(sa.union_all(self._header(), *group[i : i + MAX_BRANCHES]))
                self.generic.append(generic)
        self._native: list[_Native] | None = None
        self._layout: list[tuple[int, int]] | None = None

    def layout(self) -> list[tuple[int, int]]:
        """Per tag code: how many dimension and measure columns its rows fill."""
        if self._layout is None:
            self._layout = [(len(c.dims), len(c.measures)) for c in (self.parts[t.part] for t in self.tags)]
        return self._layout

    def native(self, dialect: Any, values: dict[str, Any]) -> list[_Native]:
        """The statements as the PostgreSQL driver runs them (built on first use, then reused)."""
        if self._native is None:
            self._native = [_Native.of(part.compile(dialect=dialect), values) for part in self.statements]
        return self._native

    # -- helpers ---------------------------------------------------------------------------

    def _bind(self, name: str, type_: Any) -> Any:
        if name not in self._binds:
            self._binds[name] = sa.bindparam(name, type_=type_)
        return self._binds[name]

    def _code(self, part: Part, key: Key) -> Any:
        """The literal standing for ``Tag(part, key)`` in the statement."""
        tag = Tag(part, key)
        if tag not in self._codes:
            self._codes[tag] = len(self.tags)
            self.tags.append(tag)
        return sa.literal_column(str(self._codes[tag]), _I)

    def _header(self) -> Any:
        """A branch with no rows whose casts fix the union's column names and types."""
        return sa.select(
            sa.cast(sa.null(), _I).label("tag"),
            *(sa.cast(sa.null(), _S).label(f"d{i}") for i in range(MAX_DIMS)),
            *(sa.cast(sa.null(), _NUM).label(f"m{i}") for i in range(MAX_MEASURES)),
        ).where(sa.false())

    def _branch(
        self,
        part: Part,
        key: Key | list[tuple[Any, Key]],
        dims: list[tuple[str, Any]],
        measures: list[tuple[str, Any]],
        from_: Any,
        where: list[Any],
        having: Any = None,
    ) -> Any:
        """A branch of ``part``: for ``key``, or for the key whose condition a row meets (a ``CASE``)."""
        columns = Columns(tuple(n for n, _ in dims), tuple(n for n, _ in measures))
        if self.parts.setdefault(part, columns) != columns:
            raise ValueError(f"part {part!r} defined with two shapes")
        # the union's dimension columns are strings: an integer dimension (months) is cast
        cols = [e if isinstance(e.type, sa.String) else sa.cast(e, _S) for _, e in dims]
        cols += [sa.null()] * (MAX_DIMS - len(dims))
        sums = [e for _, e in measures] + [sa.null()] * (MAX_MEASURES - len(measures))
        if isinstance(key, list):
            tag_col: Any = sa.case(*((cond, self._code(part, k)) for cond, k in key))
            group = [tag_col]
        else:
            tag_col, group = self._code(part, key), []
        select = sa.select(tag_col, *cols, *sums).select_from(from_).where(*where)
        group += [e for _, e in dims]
        select = select.group_by(*group) if group else select
        return select if having is None else select.having(having)

    def _on_platform(self, column: Any) -> list[Any]:
        return [column == self._bind("platform", _S)] if self.shape.platform else []

    def _dims(self, platform_column: Any, dims: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [("platform", platform_column), *dims] if self.shape.by_platform else dims

    # -- facts and subscriptions ---------------------------------------------------------

    def _fact(self, part: Part, key: Key, fact: Fact, grain: str, prefix: str) -> Any:
        if grain == "raw":
            lo, hi = self._bind(f"{prefix}_lo", _T), self._bind(f"{prefix}_hi", _T)
            return self._branch(
                part, key,
                self._dims(fact.platform, [(d.name, d.expr) for d in fact.dims]),
                [(m.name, sa.func.sum(m.expr)) for m in fact.measures],
                fact.source,
                [fact.in_range(lo, hi), *self._on_platform(fact.platform)],
            )  # fmt: skip
        table = HOURLY[fact.name]  # whole days: _fact_running
        lo, hi = self._bind(f"{prefix}_lo", _I), self._bind(f"{prefix}_hi", _I)
        return self._branch(
            part, key,
            self._dims(table.c.platform, [(d.name, table.c[d.name]) for d in fact.dims]),
            [(m.name, sa.func.sum(table.c[m.name])) for m in fact.measures],
            table,
            [table.c[grain] >= lo, table.c[grain] < hi, *self._on_platform(table.c.platform)],
        )  # fmt: skip

    def _fact_multi(self, part: Part, fact: Fact, grain: str, ranges: list[tuple[WindowKey, str]]) -> Any:
        """One branch over the ranges of several disjoint windows; ``CASE`` tells the window."""
        if grain == "raw":
            table, dims = fact.source, [(d.name, d.expr) for d in fact.dims]
            measures = [(m.name, sa.func.sum(m.expr)) for m in fact.measures]
            platform = fact.platform

            def within(prefix: str) -> Any:
                return fact.in_range(self._bind(f"{prefix}_lo", _T), self._bind(f"{prefix}_hi", _T))

        else:
            table = HOURLY[fact.name]  # whole days: _fact_running
            dims = [(d.name, table.c[d.name]) for d in fact.dims]
            measures = [(m.name, sa.func.sum(table.c[m.name])) for m in fact.measures]
            platform = table.c.platform

            def within(prefix: str) -> Any:
                col = table.c[grain]
                return sa.and_(col >= self._bind(f"{prefix}_lo", _I), col < self._bind(f"{prefix}_hi", _I))

        conditions: list[tuple[Any, Key]] = [(within(prefix), key) for key, prefix in ranges]
        where = [sa.or_(*(cond for cond, _ in conditions)), *self._on_platform(platform)]
        return self._branch(part, conditions, self._dims(platform, dims), measures, table, where)

    def _fact_running(self, part: Part, fact: Fact, ranges: list[tuple[WindowKey, str]]) -> Any:
        """Whole days ``[lo, hi)`` of each range: ``running(hi - 1) - running(lo - 1)`` per dims.

        The two ends of every range are a small derived table (day, sign, range) joined on the
        day, so a day that ends one window and precedes the next serves both. A difference
        whose row count is 0 had no rows in the range (every fact counts its rows first), so
        it is left out, as a sum over no rows would be.
        """
        table = RUNNING[fact.name]
        ends = [
            sa.select(
                (self._bind(f"{prefix}_{bound}", _I) - sa.literal_column("1", _I)).label("day"),
                sa.literal_column(sign, _I).label("sign"),
                sa.literal_column(str(n), _I).label("k"),
            )
            for n, (_, prefix) in enumerate(ranges)
            for bound, sign in (("hi", "1"), ("lo", "-1"))
        ]
        v = sa.union_all(*ends).subquery(f"bi_{fact.name}_ends")
        conditions: list[tuple[Any, Key]] = [
            (v.c.k == sa.literal_column(str(n), _I), key) for n, (key, _) in enumerate(ranges)
        ]
        dims = self._dims(table.c.platform, [(d.name, table.c[d.name]) for d in fact.dims])
        measures = [(m.name, sa.func.sum(table.c[m.name] * v.c.sign)) for m in fact.measures]
        rows = sa.func.sum(table.c[fact.rows.name] * v.c.sign) != sa.literal_column("0", _I)
        from_ = table.join(v, table.c.day == v.c.day)
        return self._branch(part, conditions, dims, measures, from_, self._on_platform(table.c.platform), rows)

    def _instant(self, k: int, rollup: bool, hours: bool, raw: bool) -> list[Any]:
        key, name = InstantKey(k), f"i{k}"
        if not rollup:
            sub, t = schema.subscriptions, self._bind(f"{name}_t", _T)
            return [
                self._branch(
                    SubsPart("raw"), key,
                    self._dims(sub.c.platform, [("currency", sub.c.currency), ("months", sub.c.billing_period_months)]),
                    [("count", sa.func.count()), ("price", sa.func.sum(sub.c.price))],
                    sub,
                    [
                        sub.c.started_at < t,
                        sa.or_(sub.c.cancelled_at.is_(None), sub.c.cancelled_at >= t),
                        sa.or_(sub.c.ended_at.is_(None), sub.c.ended_at >= t),
                        *self._on_platform(sub.c.platform),
                    ],
                )
            ]  # fmt: skip
        bal = subscription_balance
        out = [
            self._branch(
                SubsPart("balance"), key,
                self._dims(bal.c.platform, [("currency", bal.c.currency), ("months", bal.c.months)]),
                [("count", sa.func.sum(bal.c.active)), ("price", sa.func.sum(bal.c.price))],
                bal,
                [bal.c.day == self._bind(f"{name}_day", _I), *self._on_platform(bal.c.platform)],
            )
        ]  # fmt: skip
        for part, fact in ((SubsPart("start"), SUB_STARTS), (SubsPart("stop"), SUB_STOPS)):
            if hours:
                out.append(self._fact(part, key, fact, "hour", f"{name}_h"))
            if raw:
                out.append(self._fact(part, key, fact, "raw", f"{name}_r"))
        return out

    # -- cohorts ---------------------------------------------------------------------------

    def _cohort_raw(self, key: WindowKey, prefixes: list[str], last_day_name: str) -> Any:
        """The cohort's members who signed up in the raw ranges ``prefixes`` (one branch for all)."""
        u, s = schema.users, schema.sessions
        last_day = self._bind(last_day_name, _I)
        signup_day = epoch_day(u.c.created_at)
        measures: list[tuple[str, Any]] = [("size", sa.func.count())]
        for n in RETENTION_DAYS:
            eligible = signup_day <= last_day - (n + 1)
            back = sa.exists().where(s.c.user_id == u.c.id, epoch_day(s.c.started_at) == signup_day + n)
            measures.append((f"e{n}", sa.func.sum(sa.case((eligible, 1), else_=0))))
            measures.append((f"r{n}", sa.func.sum(sa.case((sa.and_(eligible, back), 1), else_=0))))
        within = [
            sa.and_(u.c.created_at >= self._bind(f"{p}_lo", _T), u.c.created_at < self._bind(f"{p}_hi", _T))
            for p in prefixes
        ]
        return self._branch(CohortPart(), key, [], measures, u, [sa.or_(*within), *self._on_platform(u.c.platform)])

    def _cohort_rollup(self, key: WindowKey, grain: str, prefixes: list[str], last_day_name: str) -> Any:
        """The cohort's sign-up hours (partial days) or whole days from the hourly or daily rollup."""
        h = cohort_hourly if grain == "hour" else cohort_daily
        last_day = self._bind(last_day_name, _I)
        day = h.c.hour // sa.literal_column("24") if grain == "hour" else h.c.day
        measures: list[tuple[str, Any]] = [("size", sa.func.sum(h.c.users))]
        for n in RETENTION_DAYS:
            eligible = day <= last_day - (n + 1)
            measures.append((f"e{n}", sa.func.sum(sa.case((eligible, h.c.users), else_=0))))
            measures.append((f"r{n}", sa.func.sum(sa.case((eligible, h.c[f"d{n}"]), else_=0))))
        col = h.c[grain]
        within = [sa.and_(col >= self._bind(f"{p}_lo", _I), col < self._bind(f"{p}_hi", _I)) for p in prefixes]
        return self._branch(CohortPart(), key, [], measures, h, [sa.or_(*within), *self._on_platform(h.c.platform)])

    # -- distinct users --------------------------------------------------------------------

    def _raw_users(self, activity: Activity, lo: Any, hi: Any, name: str) -> Any:
        src = activity.source
        cond = activity.filtered(sa.and_(activity.time >= lo, activity.time < hi))
        return (
            sa.select(src.c.platform.label("p"), activity.user.label("u"))
            .where(cond, *self._on_platform(src.c.platform))
            .distinct()
            .subquery(name)
        )

    def _distinct(self, n: int, d: DistinctShape) -> list[Any]:
        activity = ACTIVITIES[d.kind]
        key, name = CountKey(n), f"q{n}"
        part, count = UsersPart(d.kind), [("users", sa.func.count())]

        def b(bind: str, type_: Any = _I) -> Any:
            return self._bind(f"{name}_{bind}", type_)

        if d.raw:
            users = self._raw_users(activity, b("raw_lo", _T), b("raw_hi", _T), f"bi_{name}_raw")
            return [self._branch(part, key, [], count, users, [])]
        ud, fa, kind = user_days, first_active, d.kind
        on_p = self._on_platform(ud.c.platform)
        out = []
        uh, on_uh = user_hours, self._on_platform(user_hours.c.platform)
        if d.head and d.hours:  # users whose last hour on d0 is in [hs, end of d0): <= 24 rows per platform
            where = [uh.c.kind == kind, uh.c.hour >= b("hs"), uh.c.hour < b("head_hi"), *on_uh]
            out.append(self._branch(part, key, [], [("users", sa.func.sum(uh.c.last_users))], uh, where))
        elif d.head:
            where = [ud.c.kind == kind, ud.c.day == b("d0"), ud.c.last_hour >= b("hs"), *on_p]
            out.append(self._branch(part, key, [], count, ud, where))
        if d.whole:
            where = [fa.c.kind == kind, fa.c.anchor == b("anchor"), fa.c.day >= b("d1"), fa.c.day < b("d2")]
            out.append(
                self._branch(
                    part, key, [], [("users", sa.func.sum(fa.c.users))], fa, where + self._on_platform(fa.c.platform)
                )
            )
            if d.head:
                where = [
                    ud.c.kind == kind, ud.c.prev_day == b("d0"), ud.c.day >= b("d1"), ud.c.day < b("d2"),
                    ud.c.prev_last_hour < b("hs"), *on_p,
                ]  # fmt: skip
                out.append(self._branch(part, key, [], count, ud, where))
        if d.tail and d.hours and not d.head and not d.whole:
            # the middle starts at d2's midnight: every user of d2 before me is new to it
            where = [uh.c.kind == kind, uh.c.hour >= b("tail_lo"), uh.c.hour < b("me"), *on_uh]
            out.append(self._branch(part, key, [], [("users", sa.func.sum(uh.c.first_users))], uh, where))
        elif d.tail and d.hours:
            # only users new to the window since hs (prev_last_hour < hs implies prev_day <= anchor,
            # which bounds the scan of ix_bi_user_days_new); never active before, apart
            first = [ud.c.kind == kind, ud.c.day == b("d2"), ud.c.first_hour < b("me"), *on_p]
            new = [ud.c.prev_day <= b("anchor"), ud.c.prev_last_hour < b("hs")]
            out.append(self._branch(part, key, [], count, ud, [*first, ud.c.prev_day.is_(None)]))
            out.append(self._branch(part, key, [], count, ud, [*first, *new]))
        elif d.tail:
            where = [
                ud.c.kind == kind, ud.c.day == b("d2"), ud.c.first_hour < b("me"),
                sa.or_(ud.c.prev_last_hour.is_(None), ud.c.prev_last_hour < b("hs")), *on_p,
            ]  # fmt: skip
            out.append(self._branch(part, key, [], count, ud, where))
        # raw partial hours at both ends, minus users already counted in the middle [hs, me)
        if d.edge_head:
            head = self._raw_users(activity, b("eh_lo", _T), b("eh_hi", _T), f"bi_{name}_head")
            out.append(self._branch(part, key, [], count, head, [~self._in_middle(kind, head, b)]))
        if d.edge_tail:
            tail = self._raw_users(activity, b("et_lo", _T), b("et_hi", _T), f"bi_{name}_tail")
            where = [~self._in_middle(kind, tail, b)]
            if d.edge_head:
                earlier = activity.source.alias(f"bi_{name}_earlier")
                time = activity.time_of(earlier)
                in_head = sa.and_(time >= b("eh_lo", _T), time < b("eh_hi", _T))
                where.append(
                    ~sa.exists().where(
                        activity.user_of(earlier) == tail.c.u,
                        earlier.c.platform == tail.c.p,
                        activity.filtered(in_head, earlier),
                    )
                )
            out.append(self._branch(part, key, [], count, tail, where))
        return out

    @staticmethod
    def _in_middle(kind: str, users: Any, b: Any) -> Any:
        """The user has a rollup day row intersecting the hour-aligned middle ``[hs, me)``."""
        ud = user_days
        hs, me = b("hs"), b("me")
        return sa.exists().where(
            ud.c.kind == kind,
            ud.c.user_id == users.c.u,
            ud.c.platform == users.c.p,
            ud.c.day >= b("first_day"),
            ud.c.day <= b("last_day"),
            sa.or_(ud.c.day * 24 >= hs, ud.c.last_hour >= hs),
            sa.or_((ud.c.day + 1) * 24 <= me, ud.c.first_hour < me),
        )


class StatementCache:
    """Built statements by shape; a dashboard needs a handful (per window length and platform filter)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[ReportShape, ReportStatement] = OrderedDict()

    def get(self, shape: ReportShape) -> ReportStatement:
        found = self._items.get(shape)
        if found is None:
            found = self._items[shape] = ReportStatement(shape)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        self._items.move_to_end(shape)
        return found


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True, slots=True)
class _Native:
    """A compiled statement as psycopg's ``RawCursor`` takes it: ``$n`` placeholders, values in order.

    The report's statement is ~90 kB of SQL; handed to psycopg with named placeholders it
    is re-parsed in Python on every run (psycopg caches the conversion of short queries
    only), and SQLAlchemy re-expands the ``IN`` lists. Both happen once here instead; the
    statement is then prepared once per connection (``prepare=True``): PostgreSQL parses
    it once; the statement of raw branches, with ``plan_cache_mode = force_custom_plan``,
    is still planned every run with the real bounds (a generic plan for them was 10-40x
    slower: it cannot see which ranges are tiny), the rollup one only once (``_fetch``).
    """

    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]  # expanded IN-list members and other fixed values, processed
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def of(cls, compiled: Any, values: dict[str, Any]) -> _Native:
        state = compiled.construct_expanded_state(compiled.construct_params(values))
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        sql = _PLACEHOLDER.sub(number, state.statement).replace("%%", "%")
        processors = {n: f for n, f in state.processors.items() if f is not None}
        constants = {n: state.parameters[n] for n in names if n not in values}
        for n, v in constants.items():
            f = processors.get(n)
            constants[n] = v if f is None else f(v)
        return cls(sql, tuple(names), constants, {n: f for n, f in processors.items() if n in values})

    def args(self, values: dict[str, Any]) -> list[Any]:
        out = []
        for n in self.names:
            if n in self.constants:
                out.append(self.constants[n])
            else:
                f = self.processors.get(n)
                out.append(values[n] if f is None else f(values[n]))
        return out


_PLATFORM_TABLES = frozenset(schema.TABLES)


def _reads_platform_tables(branch: Any) -> bool:
    """Whether a branch reads a platform table (directly, through an alias or in a subquery)."""
    return any(t in _PLATFORM_TABLES for t in sql_util.find_tables(branch))


def _fetch(conn: sa.Connection, statement: ReportStatement, params: dict[str, Any]) -> list[Any]:
    """The statement's rows: on psycopg straight through a ``RawCursor``, elsewhere through SQLAlchemy.

    On PostgreSQL the rollup-only statement runs with a generic plan (planned at its first run
    on a connection, then reused: its branches are index range scans whatever the bounds), the
    other with a custom plan per run, since a raw range may be an hour or a whole window.
    """
    driver = conn.connection.driver_connection if conn.dialect.name == "postgresql" else None
    if not isinstance(driver, psycopg.Connection):
        return [row for part in statement.statements for row in conn.execute(part, params)]
    rows: list[Any] = []
    with psycopg.RawCursor(driver) as cur:
        for native, generic in zip(statement.native(conn.dialect, params), statement.generic, strict=True):
            mode = "force_generic_plan" if generic else "force_custom_plan"
            cur.execute(f"SET LOCAL plan_cache_mode = {mode}")
            cur.execute(native.sql, native.args(params), prepare=True)
            rows += cur.fetchall()
    return rows


def execute(conn: sa.Connection, statement: ReportStatement, params: dict[str, Any]) -> ReportRows:
    """Run the statement; rows by ``Tag``, each a dict of dim and measure values.

    A (tag, dims) group can come from several branches (raw edges, hours, days): their
    partial sums are added here. Measures come back as ``Decimal`` (None: no rows).
    """
    if conn.dialect.name == "postgresql":
        # Plan with the real bounds (custom plans; ``_fetch`` picks per statement on psycopg), and
        # skip JIT and parallel workers: the plan is many small index scans, which JIT compilation
        # and starting workers would only slow down.
        conn.exec_driver_sql(
            "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off;"
            " SET LOCAL max_parallel_workers_per_gather = 0"
        )
    layout = statement.layout()
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in _fetch(conn, statement, params):
        code = int(row[0])
        n_dims, n_measures = layout[code]
        values = row[_FIRST_MEASURE : _FIRST_MEASURE + n_measures]
        if values.count(None) == n_measures:
            continue  # an ungrouped aggregate over no rows
        key = (code, *row[1 : 1 + n_dims])
        acc = groups.get(key)
        if acc is None:
            groups[key] = [None if v is None else _num(v) for v in values]
            continue
        for i, v in enumerate(values):
            if v is not None:
                acc[i] = _num(v) if acc[i] is None else acc[i] + _num(v)
    out: dict[Tag, list[Row]] = {}
    for key, acc in groups.items():  # readers order what they need (read_fact sorts by dims)
        tag = statement.tags[key[0]]
        columns = statement.parts[tag.part]
        item = dict(zip(columns.dims, key[1:], strict=True))
        item.update(zip(columns.measures, acc, strict=True))
        out.setdefault(tag, []).append(item)
    return ReportRows(out)


_FIRST_MEASURE = 1 + MAX_DIMS


def _num(value: Any) -> Decimal:
    # SQLite hands back floats for money sums: go through str() so 0.1 stays 0.1.
    if type(value) is Decimal:
        return value
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
