"""The additive facts BI aggregates, declared once: source, time column, dimensions, measures.

Each ``Fact`` is everything the three readers of a fact need: the rollup refresher (which
``INSERT ... SELECT``\\ s hourly sums from the platform tables), the rollup tables (built from
the declaration) and the KPI queries (which sum rollup rows for whole hours/days and the
same measure expressions over raw rows for partial hours). Because all three come from one
declaration, rollups cannot drift from raw SQL.

Every measure is ``SUM(expression)`` over source rows, so sums of hourly sums equal the
sum over raw rows exactly (integers and PostgreSQL ``numeric``; on SQLite money is
quantised to 4 places after summing, see docs/schema.md). No measure divides or rounds:
MRR is summed as period prices per billing period and divided once, in Python.

Payments count where they happened: ``gross`` is every payment that went through (completed,
refunded or charged back later) by ``created_at``; reversals are their own fact by
``refunded_at``. A later refund therefore never changes a past window's gross.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .. import schema
from ._sql import duration_us

Expr = ColumnElement[Any]
T = schema.transactions
SUCCEEDED = ("completed", "refunded", "chargeback")
REVERSED = ("refunded", "chargeback")


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    expr: Expr
    money: bool = False

    @property
    def type(self) -> sa.types.TypeEngine[Any]:
        return schema.Money if self.money else sa.BigInteger()


@dataclass(frozen=True, slots=True)
class Dim:
    name: str
    expr: Expr
    length: int = 16
    integer: bool = False  # an integer dimension (billing months) instead of a string

    @property
    def type(self) -> sa.types.TypeEngine[Any]:
        return sa.Integer() if self.integer else sa.String(self.length)


@dataclass(frozen=True, slots=True)
class Fact:
    """An additive fact: ``SUM(measure)`` per (hour, platform, dims) of ``source`` rows."""

    name: str
    source: sa.Table
    time: Expr
    dims: tuple[Dim, ...]
    measures: tuple[Measure, ...]
    where: Expr | None = None
    #: index-friendly predicate ``t0 <= time < t1``; defaults to a plain range on ``time``
    range_filter: Callable[[Any, Any], Expr] | None = None

    def in_range(self, t0: datetime | Expr | None, t1: datetime | Expr) -> Expr:
        """Source rows of this fact with ``t0 <= time < t1`` (``t0=None``: from the beginning).

        The bounds may be values or column expressions (a parameter table's ``lo``/``hi``).
        """
        if self.range_filter is not None and t0 is not None:
            cond = self.range_filter(t0, t1)
        else:
            cond = sa.and_(self.time < t1, self.time >= t0) if t0 is not None else sa.and_(self.time < t1)
        return sa.and_(cond, self.where) if self.where is not None else cond

    @property
    def platform(self) -> sa.Column[Any]:
        return self.source.c.platform

    @property
    def rows(self) -> Measure:
        """The measure counting the fact's rows (every fact's first: ``SUM(1)``), > 0 for any group."""
        return self.measures[0]


def _if(cond: Expr, then: Expr | int = 1) -> Expr:
    return sa.case((cond, then), else_=0)


def _succeeded() -> Expr:
    return T.c.status.in_(SUCCEEDED)


TX = Fact(
    name="tx",
    source=T,
    time=T.c.created_at,
    dims=(Dim("type", T.c.type), Dim("currency", T.c.currency, 3)),
    measures=(
        Measure("attempts", sa.literal(1, sa.BigInteger())),
        Measure("succeeded", _if(_succeeded())),
        Measure("declined", _if(T.c.status == "declined")),
        Measure("failed", _if(T.c.status == "failed")),
        Measure("gross", _if(_succeeded(), T.c.amount), money=True),
        Measure("fee_recorded", _if(sa.and_(_succeeded(), T.c.fee_amount.is_not(None)), T.c.fee_amount), money=True),
        Measure("gross_fee_missing", _if(sa.and_(_succeeded(), T.c.fee_amount.is_(None)), T.c.amount), money=True),
    ),
)

REVERSALS = Fact(
    name="reversal",
    source=T,
    time=T.c.refunded_at,
    dims=(Dim("type", T.c.type), Dim("currency", T.c.currency, 3), Dim("status", T.c.status)),
    measures=(Measure("count", sa.literal(1, sa.BigInteger())), Measure("amount", T.c.amount, money=True)),
    where=sa.and_(T.c.status.in_(REVERSED), T.c.refunded_at.is_not(None)),
)

U = schema.users
SIGNUPS = Fact(
    name="signup",
    source=U,
    time=U.c.created_at,
    dims=(Dim("role", U.c.role),),
    measures=(Measure("count", sa.literal(1, sa.BigInteger())),),
)

C = schema.content
UPLOADS = Fact(
    name="upload",
    source=C,
    time=C.c.created_at,
    dims=(Dim("type", C.c.type),),
    measures=(Measure("count", sa.literal(1, sa.BigInteger())),),
)


def _event_fact(name: str, table: sa.Table) -> Fact:
    return Fact(
        name=name,
        source=table,
        time=table.c.created_at,
        dims=(),
        measures=(Measure("count", sa.literal(1, sa.BigInteger())),),
    )


VIEWS = _event_fact("view", schema.content_views)
LIKES = _event_fact("like", schema.likes)
COMMENTS = _event_fact("comment", schema.comments)
SHARES = _event_fact("share", schema.shares)

S = schema.sessions
SESSIONS = Fact(
    name="session",
    source=S,
    time=S.c.started_at,
    dims=(),
    measures=(
        Measure("started", sa.literal(1, sa.BigInteger())),
        Measure("ended", _if(S.c.ended_at.is_not(None))),
        Measure("duration_us", _if(S.c.ended_at.is_not(None), duration_us(S.c.started_at, S.c.ended_at))),
    ),
)

SUB = schema.subscriptions
#: Subscriptions are summed per currency and billing period; MRR = Σ period prices / months,
#: divided once over the sums (``monthly_recurring``), never rounded per subscription.
SUB_DIMS = (Dim("currency", SUB.c.currency, 3), Dim("months", SUB.c.billing_period_months, integer=True))
#: When a subscription stopped recurring: the earlier of cancellation and end (NULL: still active).
STOPPED_AT: Expr = sa.case(
    (SUB.c.cancelled_at.is_(None), SUB.c.ended_at),
    (SUB.c.ended_at.is_(None), SUB.c.cancelled_at),
    (SUB.c.cancelled_at <= SUB.c.ended_at, SUB.c.cancelled_at),
    else_=SUB.c.ended_at,
)


def _stopped_between(t0: Any, t1: Any) -> Expr:
    # Two index ranges OR-ed instead of a range on the CASE expression (which no index serves).
    by_cancel = sa.and_(
        SUB.c.cancelled_at >= t0,
        SUB.c.cancelled_at < t1,
        sa.or_(SUB.c.ended_at.is_(None), SUB.c.ended_at >= SUB.c.cancelled_at),
    )
    by_end = sa.and_(
        SUB.c.ended_at >= t0,
        SUB.c.ended_at < t1,
        sa.or_(SUB.c.cancelled_at.is_(None), SUB.c.cancelled_at > SUB.c.ended_at),
    )
    return sa.or_(by_cancel, by_end)


SUB_STARTS = Fact(
    name="sub_start",
    source=SUB,
    time=SUB.c.started_at,
    dims=SUB_DIMS,
    measures=(Measure("count", sa.literal(1, sa.BigInteger())), Measure("price", SUB.c.price, money=True)),
)
SUB_STOPS = Fact(
    name="sub_stop",
    source=SUB,
    time=STOPPED_AT,
    dims=SUB_DIMS,
    measures=(Measure("count", sa.literal(1, sa.BigInteger())), Measure("price", SUB.c.price, money=True)),
    where=sa.or_(SUB.c.cancelled_at.is_not(None), SUB.c.ended_at.is_not(None)),
    range_filter=_stopped_between,
)

FACTS: tuple[Fact, ...] = (
    TX,
    REVERSALS,
    SIGNUPS,
    UPLOADS,
    VIEWS,
    LIKES,
    COMMENTS,
    SHARES,
    SESSIONS,
    SUB_STARTS,
    SUB_STOPS,
)


@dataclass(frozen=True, slots=True)
class Activity:
    """A source of 'user did something on day D' for distinct-user counting.

    Columns are named, not bound to a table, so the same activity can be read from an alias.
    """

    kind: str
    source: sa.Table
    user_column: str
    time_column: str
    statuses: tuple[str, ...] = ()  # only rows with one of these statuses count (empty: all)

    def user_of(self, table: sa.FromClause) -> sa.ColumnElement[Any]:
        return table.c[self.user_column]

    def time_of(self, table: sa.FromClause) -> sa.ColumnElement[Any]:
        return table.c[self.time_column]

    @property
    def user(self) -> sa.ColumnElement[Any]:
        return self.user_of(self.source)

    @property
    def time(self) -> sa.ColumnElement[Any]:
        return self.time_of(self.source)

    def filtered(self, cond: Expr, table: sa.FromClause | None = None) -> Expr:
        if not self.statuses:
            return cond
        return sa.and_(cond, (table if table is not None else self.source).c.status.in_(self.statuses))


ACTIVE = Activity("active", S, "user_id", "started_at")
#: Paying users: fans with a payment that went through in the window (a later refund does not undo it).
PAYING = Activity("paying", T, "fan_id", "created_at", statuses=SUCCEEDED)
ACTIVITIES: tuple[Activity, ...] = (ACTIVE, PAYING)


def monthly_recurring(prices: dict[int, Any]) -> Fraction:
    """MRR of period-price sums by billing months: Σ price / months, divided once and exactly.

    ``{1: Decimal("9.99"), 12: Decimal("95.90")}`` → 9.99 + 95.90 / 12 = 17.9816666… as a
    ``Fraction``; the caller rounds it once (``Decimal`` places of the figure).
    """
    total = Fraction(0)
    for months, price in prices.items():
        total += Fraction(price) / months
    return total
