"""The report as one SQL statement per ``ReportShape``, built once and reused.

Branches, each aggregated by the database and tagged with a literal ``part`` and ``key``:

- every fact over each window's raw ranges, rollup hours and rollup days (key ``w{i}``);
- subscriptions recurring at each instant: the midnight balance plus the day's deltas,
  or straight from the subscriptions (key ``i{k}``);
- the sign-up cohort of each window with its day 1/7/30 retention (key ``w{i}``);
- distinct users per requested count (key ``q{n}``; method in ``_query_users``).

Every value is a bind parameter written into the branch that uses it, so the planner
sees real bounds (index range scans, nested-loop probes) while the statement text stays
the same for every report of the same shape: SQLAlchemy builds and compiles it once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from .. import schema
from ._layout import DistinctShape, ReportShape
from ._sql import epoch_day
from .facts import ACTIVE, FACTS, PAYING, SUB_STARTS, SUB_STOPS, Activity, Fact
from .rollup_tables import DAILY, HOURLY, RETENTION_DAYS, cohort_hourly, first_active, subscription_balance, user_days

MAX_DIMS, MAX_MEASURES = 4, 8
MAX_BRANCHES = 400
_NUM = sa.Numeric(38, 10)
_T = schema.UtcDateTime()
_I = sa.BigInteger()
_S = sa.String()
ACTIVITIES = {a.kind: a for a in (ACTIVE, PAYING)}


@dataclass(frozen=True, slots=True)
class Part:
    dims: tuple[str, ...]
    measures: tuple[str, ...]


class ReportStatement:
    """The statement of one ``ReportShape``; ``parts`` says how to read each part's rows."""

    def __init__(self, shape: ReportShape) -> None:
        self.shape = shape
        self.parts: dict[str, Part] = {}
        self._binds: dict[str, Any] = {}
        branches: list[Any] = []
        for fact in FACTS:
            for grain, letter, count in (("raw", "r", "raw"), ("hour", "h", "hours"), ("day", "d", "days")):
                ranges = [
                    (f"w{i}", f"w{i}_{letter}{j}")
                    for i, w in enumerate(shape.windows)
                    for j in range(getattr(w, count))
                ]
                if not ranges:
                    continue
                if shape.disjoint:  # one branch; a row's window from a CASE over the ranges
                    branches.append(self._fact_multi(fact.name, fact, grain, ranges))
                else:
                    branches += [self._fact(fact.name, key, fact, grain, p) for key, p in ranges]
        for k, inst in enumerate(shape.instants):
            branches += self._instant(k, inst.rollup, inst.hours, inst.raw)
        for i, c in enumerate(shape.cohorts):
            branches += [self._cohort_raw(f"w{i}", f"c{i}_r{j}", f"c{i}_last_day") for j in range(c.raw)]
            if c.hours:
                branches.append(self._cohort_rollup(f"w{i}", f"c{i}_h", f"c{i}_last_day"))
        for n, d in enumerate(shape.distinct):
            branches += self._distinct(f"q{n}", d)
        # SQLite refuses compound SELECTs of more than 500 terms: a huge plan runs as several.
        self.statements: list[Any] = [
            sa.union_all(self._header(), *branches[i : i + MAX_BRANCHES]) for i in range(0, len(branches), MAX_BRANCHES)
        ]

    # -- helpers ---------------------------------------------------------------------------

    def _bind(self, name: str, type_: Any) -> Any:
        if name not in self._binds:
            self._binds[name] = sa.bindparam(name, type_=type_)
        return self._binds[name]

    def _header(self) -> Any:
        """A branch with no rows whose casts fix the union's column names and types."""
        return sa.select(
            sa.cast(sa.null(), _S).label("part"),
            sa.cast(sa.null(), _S).label("key"),
            *(sa.cast(sa.null(), _S).label(f"d{i}") for i in range(MAX_DIMS)),
            *(sa.cast(sa.null(), _NUM).label(f"m{i}") for i in range(MAX_MEASURES)),
        ).where(sa.false())

    def _branch(
        self,
        part: str,
        key: str | Any,
        dims: list[tuple[str, Any]],
        measures: list[tuple[str, Any]],
        from_: Any,
        where: list[Any],
    ) -> Any:
        """A branch: ``key`` is a literal window/instant/count tag, or an expression computing it."""
        shape = Part(tuple(n for n, _ in dims), tuple(n for n, _ in measures))
        if self.parts.setdefault(part, shape) != shape:
            raise ValueError(f"part {part!r} defined with two shapes")
        # the union's dimension columns are strings: an integer dimension (months) is cast
        cols = [e if isinstance(e.type, sa.String) else sa.cast(e, _S) for _, e in dims]
        cols += [sa.null()] * (MAX_DIMS - len(dims))
        sums = [e for _, e in measures] + [sa.null()] * (MAX_MEASURES - len(measures))
        key_col = sa.literal_column(f"'{key}'") if isinstance(key, str) else key
        select = sa.select(sa.literal_column(f"'{part}'"), key_col, *cols, *sums).select_from(from_).where(*where)
        group = ([] if isinstance(key, str) else [key]) + [e for _, e in dims]
        return select.group_by(*group) if group else select

    def _on_platform(self, column: Any) -> list[Any]:
        return [column == self._bind("platform", _S)] if self.shape.platform else []

    def _dims(self, platform_column: Any, dims: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        return [("platform", platform_column), *dims] if self.shape.by_platform else dims

    # -- facts and subscriptions ---------------------------------------------------------

    def _fact(self, part: str, key: str, fact: Fact, grain: str, prefix: str) -> Any:
        if grain == "raw":
            lo, hi = self._bind(f"{prefix}_lo", _T), self._bind(f"{prefix}_hi", _T)
            return self._branch(
                part, key,
                self._dims(fact.platform, [(d.name, d.expr) for d in fact.dims]),
                [(m.name, sa.func.sum(m.expr)) for m in fact.measures],
                fact.source,
                [fact.in_range(lo, hi), *self._on_platform(fact.platform)],
            )  # fmt: skip
        table = HOURLY[fact.name] if grain == "hour" else DAILY[fact.name]
        lo, hi = self._bind(f"{prefix}_lo", _I), self._bind(f"{prefix}_hi", _I)
        return self._branch(
            part, key,
            self._dims(table.c.platform, [(d.name, table.c[d.name]) for d in fact.dims]),
            [(m.name, sa.func.sum(table.c[m.name])) for m in fact.measures],
            table,
            [table.c[grain] >= lo, table.c[grain] < hi, *self._on_platform(table.c.platform)],
        )  # fmt: skip

    def _fact_multi(self, part: str, fact: Fact, grain: str, ranges: list[tuple[str, str]]) -> Any:
        """One branch over the ranges of several disjoint windows; ``CASE`` tells the window."""
        if grain == "raw":
            table, dims = fact.source, [(d.name, d.expr) for d in fact.dims]
            measures = [(m.name, sa.func.sum(m.expr)) for m in fact.measures]
            platform = fact.platform

            def within(prefix: str) -> Any:
                return fact.in_range(self._bind(f"{prefix}_lo", _T), self._bind(f"{prefix}_hi", _T))

        else:
            table = HOURLY[fact.name] if grain == "hour" else DAILY[fact.name]
            dims = [(d.name, table.c[d.name]) for d in fact.dims]
            measures = [(m.name, sa.func.sum(table.c[m.name])) for m in fact.measures]
            platform = table.c.platform

            def within(prefix: str) -> Any:
                col = table.c[grain]
                return sa.and_(col >= self._bind(f"{prefix}_lo", _I), col < self._bind(f"{prefix}_hi", _I))

        conditions = [(key, within(prefix)) for key, prefix in ranges]
        key = sa.case(*((cond, sa.literal_column(f"'{k}'")) for k, cond in conditions))
        where = [sa.or_(*(cond for _, cond in conditions)), *self._on_platform(platform)]
        return self._branch(part, key, self._dims(platform, dims), measures, table, where)

    def _instant(self, k: int, rollup: bool, hours: bool, raw: bool) -> list[Any]:
        key = f"i{k}"
        if not rollup:
            sub, t = schema.subscriptions, self._bind(f"{key}_t", _T)
            return [
                self._branch(
                    "subs:raw", key,
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
                "subs:balance", key,
                self._dims(bal.c.platform, [("currency", bal.c.currency), ("months", bal.c.months)]),
                [("count", sa.func.sum(bal.c.active)), ("price", sa.func.sum(bal.c.price))],
                bal,
                [bal.c.day == self._bind(f"{key}_day", _I), *self._on_platform(bal.c.platform)],
            )
        ]  # fmt: skip
        for part, fact in (("subs:start", SUB_STARTS), ("subs:stop", SUB_STOPS)):
            if hours:
                out.append(self._fact(part, key, fact, "hour", f"{key}_h"))
            if raw:
                out.append(self._fact(part, key, fact, "raw", f"{key}_r"))
        return out

    # -- cohorts ---------------------------------------------------------------------------

    def _cohort_raw(self, key: str, prefix: str, last_day_name: str) -> Any:
        u, s = schema.users, schema.sessions
        lo, hi, last_day = self._bind(f"{prefix}_lo", _T), self._bind(f"{prefix}_hi", _T), self._bind(last_day_name, _I)
        signup_day = epoch_day(u.c.created_at)
        measures: list[tuple[str, Any]] = [("size", sa.func.count())]
        for n in RETENTION_DAYS:
            eligible = signup_day <= last_day - (n + 1)
            back = sa.exists().where(s.c.user_id == u.c.id, epoch_day(s.c.started_at) == signup_day + n)
            measures.append((f"e{n}", sa.func.sum(sa.case((eligible, 1), else_=0))))
            measures.append((f"r{n}", sa.func.sum(sa.case((sa.and_(eligible, back), 1), else_=0))))
        where = [u.c.created_at >= lo, u.c.created_at < hi, *self._on_platform(u.c.platform)]
        return self._branch("cohort", key, [], measures, u, where)

    def _cohort_rollup(self, key: str, prefix: str, last_day_name: str) -> Any:
        h = cohort_hourly
        lo, hi, last_day = self._bind(f"{prefix}_lo", _I), self._bind(f"{prefix}_hi", _I), self._bind(last_day_name, _I)
        measures: list[tuple[str, Any]] = [("size", sa.func.sum(h.c.users))]
        for n in RETENTION_DAYS:
            eligible = h.c.hour // sa.literal_column("24") <= last_day - (n + 1)
            measures.append((f"e{n}", sa.func.sum(sa.case((eligible, h.c.users), else_=0))))
            measures.append((f"r{n}", sa.func.sum(sa.case((eligible, h.c[f"d{n}"]), else_=0))))
        where = [h.c.hour >= lo, h.c.hour < hi, *self._on_platform(h.c.platform)]
        return self._branch("cohort", key, [], measures, h, where)

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

    def _distinct(self, key: str, d: DistinctShape) -> list[Any]:
        activity = ACTIVITIES[d.kind]
        part, count = f"users:{d.kind}", [("users", sa.func.count())]

        def b(name: str, type_: Any = _I) -> Any:
            return self._bind(f"{key}_{name}", type_)

        if d.raw:
            users = self._raw_users(activity, b("raw_lo", _T), b("raw_hi", _T), f"bi_{key}_raw")
            return [self._branch(part, key, [], count, users, [])]
        ud, fa, kind = user_days, first_active, d.kind
        on_p = self._on_platform(ud.c.platform)
        out = []
        if d.head:
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
        if d.tail:
            where = [
                ud.c.kind == kind, ud.c.day == b("d2"), ud.c.first_hour < b("me"),
                sa.or_(ud.c.prev_last_hour.is_(None), ud.c.prev_last_hour < b("hs")), *on_p,
            ]  # fmt: skip
            out.append(self._branch(part, key, [], count, ud, where))
        # raw partial hours at both ends, minus users already counted in the middle [hs, me)
        if d.edge_head:
            head = self._raw_users(activity, b("eh_lo", _T), b("eh_hi", _T), f"bi_{key}_head")
            out.append(self._branch(part, key, [], count, head, [~self._in_middle(kind, head, b)]))
        if d.edge_tail:
            tail = self._raw_users(activity, b("et_lo", _T), b("et_hi", _T), f"bi_{key}_tail")
            where = [~self._in_middle(kind, tail, b)]
            if d.edge_head:
                earlier = activity.source.alias(f"bi_{key}_earlier")
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


def execute(conn: sa.Connection, statement: ReportStatement, params: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Run the statement; rows by ``"<key>:<part>"``, each a dict of dim and measure values.

    A (part, key, dims) group can come from several branches (raw edges, hours, days):
    their partial sums are added here. Measures come back as ``Decimal`` (None: no rows).
    """
    if conn.dialect.name == "postgresql":
        # Plan with the real bounds every time (no generic plan), and skip JIT: the plan is
        # many small index scans, which JIT compilation would only slow down.
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off")
    groups: dict[tuple[Any, ...], list[Any]] = {}
    rows = [row for part in statement.statements for row in conn.execute(part, params)]
    for row in rows:
        part = statement.parts[row[0]]
        values = row[2 + MAX_DIMS : 2 + MAX_DIMS + len(part.measures)]
        if all(v is None for v in values):
            continue  # an ungrouped aggregate over no rows
        acc = groups.setdefault(tuple(row[: 2 + len(part.dims)]), [None] * len(part.measures))
        for i, v in enumerate(values):
            if v is not None:
                acc[i] = _num(v) if acc[i] is None else acc[i] + _num(v)
    out: dict[str, list[dict[str, Any]]] = {}
    for key, acc in sorted(groups.items(), key=lambda kv: tuple(str(k) for k in kv[0])):
        part = statement.parts[key[0]]
        item = dict(zip(part.dims, key[2:], strict=True))
        item.update(zip(part.measures, acc, strict=True))
        out.setdefault(f"{key[1]}:{key[0]}", []).append(item)
    return out


def _num(value: Any) -> Decimal:
    # SQLite hands back floats for money sums: go through str() so 0.1 stays 0.1.
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
