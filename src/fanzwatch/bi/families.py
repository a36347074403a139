"""The KPI families: each a small query object that asks the plan for what it needs and reads a typed result.

A family (``RevenueQuery``, ``SubscriptionsQuery``, ``UsersQuery``, ``ContentQuery``,
``EngagementQuery``) has two steps:

- ``plan(p)``: register the parts it needs on the shared ``ReportPlan`` — a window's facts,
  an instant's subscriptions, a cohort, a distinct-user count — and keep the typed keys
  (``WindowKey``, ``InstantKey``, ``CountKey``) it gets back;
- ``read(rows)``: build its result model from the statement's rows, looked up by those keys.

``KpiEngine`` composes the families of every window into one statement (one round trip)
and never looks inside a family; adding a figure touches one family. The maths is exact:
money is summed first and rounded once (see docs/bi.md, "Rounding").

>>> p = ReportPlan(covered_until_hour=None, platform=None)                           # doctest: +SKIP
>>> q = ContentQuery(window); q.plan(p); q.read(p.run(conn, statements))            # doctest: +SKIP
ContentMetrics(total_uploads=4, ...)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from ._keys import CohortPart, CountKey, FactPart, InstantKey, ReportRows, UsersPart, WindowKey
from ._layout import Plan
from ._query_facts import fact_totals, money, read_fact, read_subscriptions, round_money
from ._query_users import read_cohort
from ._statement import StatementCache, execute
from .currency import Converter
from .facts import (
    ACTIVE,
    COMMENTS,
    LIKES,
    PAYING,
    REVERSALS,
    SESSIONS,
    SHARES,
    SIGNUPS,
    SUB_STARTS,
    SUB_STOPS,
    TX,
    UPLOADS,
    VIEWS,
    Activity,
    Fact,
)
from .models import (
    ContentMetrics,
    CurrencyRevenue,
    EngagementMetrics,
    RetentionFigure,
    RevenueMetrics,
    SubscriptionMetrics,
    UserMetrics,
)
from .window import Window, utc_day_floor

R_co = TypeVar("R_co", covariant=True)
# keys of a family that has not planned yet
_NO_WINDOW, _NO_INSTANT, _NO_COUNT = WindowKey(-1), InstantKey(-1), CountKey(-1)
#: The guide's weights: a share is worth three likes, a comment two.
ENGAGEMENT_WEIGHTS = {"likes": 1, "comments": 2, "shares": 3}


def ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def average(num: Decimal | Fraction, den: int) -> Decimal | None:
    """An average of an exact sum, rounded once."""
    return None if den == 0 else round_money(Fraction(num) / den)


def trailing_days(window: Window, days: int) -> Window:
    """The ``days`` complete UTC days before the window's end (DAU/WAU/MAU)."""
    day_end = utc_day_floor(window.end)
    return Window(day_end - timedelta(days=days), day_end)


@dataclass(slots=True)
class ReportPlan:
    """The shared plan: families register parts here and get typed keys; ``run`` is the one round trip."""

    covered_until_hour: int | None
    platform: str | None
    edge_hours: bool = True  # see ``_layout.Plan``
    _plan: Plan = field(init=False)
    _windows: dict[Window, WindowKey] = field(default_factory=dict)
    _cohorts: dict[Window, WindowKey] = field(default_factory=dict)
    _counts: dict[tuple[str, Window], CountKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._plan = Plan(self.covered_until_hour, self.platform, edge_hours=self.edge_hours)

    def window(self, window: Window) -> WindowKey:
        """Every fact summed over ``window`` (and its cohort): the key of its rows."""
        if window not in self._windows:
            self._windows[window] = WindowKey(len(self._windows))
            self._plan.add_window(window)
            self._plan.add_cohort(window)
        return self._windows[window]

    def instant(self, t: datetime) -> InstantKey:
        """Subscriptions recurring at ``t``."""
        return self._plan.add_instant(t)

    def distinct(self, activity: Activity, window: Window) -> CountKey:
        """Distinct users with ``activity`` in ``window`` (each count planned once)."""
        key = (activity.kind, window)
        if key not in self._counts:
            self._counts[key] = self._plan.add_distinct(activity.kind, window)
        return self._counts[key]

    def run(self, conn: Connection, statements: StatementCache) -> ReportRows:
        return execute(conn, statements.get(self._plan.shape()), self._plan.values)


class KpiQuery(Protocol[R_co]):
    """A KPI family: what to plan, how to read."""

    def plan(self, p: ReportPlan) -> None: ...

    def read(self, rows: ReportRows) -> R_co: ...


def _count(rows: ReportRows, activity: Activity, key: CountKey) -> int:
    return int(sum(r["users"] for r in rows.of(UsersPart(activity.kind), key)))


@dataclass(slots=True)
class _Facts:
    """A window's fact rows, typed."""

    rows: ReportRows
    key: WindowKey

    def rows_of(self, fact: Fact) -> list[dict[str, Any]]:
        return read_fact(self.rows.of(FactPart(fact.name), self.key), fact)

    def totals(self, fact: Fact) -> dict[str, Any]:
        return fact_totals(self.rows.of(FactPart(fact.name), self.key), fact)


@dataclass(slots=True)
class RevenueQuery:
    """Gross, refunds, chargebacks and net; fees, payouts, MRR; ARPU/ARPPU — in the reporting currency."""

    window: Window
    convert: Converter
    fee_rate: Decimal
    _w: WindowKey = _NO_WINDOW
    _end: InstantKey = _NO_INSTANT
    _active: CountKey = _NO_COUNT
    _paying: CountKey = _NO_COUNT

    def plan(self, p: ReportPlan) -> None:
        self._w, self._end = p.window(self.window), p.instant(self.window.end)
        self._active, self._paying = p.distinct(ACTIVE, self.window), p.distinct(PAYING, self.window)

    def read(self, rows: ReportRows) -> RevenueMetrics:
        facts, convert = _Facts(rows, self._w), self.convert
        subs_end = read_subscriptions(rows, self._end)
        per_cur: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
        by_type: dict[str, Fraction] = defaultdict(Fraction)
        counts = {"attempts": 0, "succeeded": 0, "declined": 0, "failed": 0}
        for row in facts.rows_of(TX):
            cur = per_cur[row["currency"]]
            for m in ("gross", "fee_recorded", "gross_fee_missing", "succeeded"):
                cur[m] += row[m]
            for k in counts:
                counts[k] += row[k]
            if row["succeeded"]:
                converted = convert.exact(row["gross"], row["currency"])
                if converted is not None:
                    by_type[row["type"]] += converted
        reversals: dict[str, dict[str, list[Any]]] = {"refunded": {}, "chargeback": {}}
        for row in facts.rows_of(REVERSALS):
            entry = reversals[row["status"]].setdefault(row["currency"], [0, Decimal(0)])
            entry[0] += row["count"]
            entry[1] += row["amount"]
        currencies = sorted(set(per_cur) | set(subs_end) | set(reversals["refunded"]) | set(reversals["chargeback"]))
        by_currency: dict[str, CurrencyRevenue] = {}
        fees: dict[str, Fraction] = {}
        estimated: dict[str, Fraction] = {}
        for c in currencies:
            figures = per_cur.get(c, {})
            gross = money(figures.get("gross", 0))
            estimated[c] = Fraction(money(figures.get("gross_fee_missing", 0))) * Fraction(self.fee_rate)
            fees[c] = Fraction(money(figures.get("fee_recorded", 0))) + estimated[c]
            succeeded = int(figures.get("succeeded", 0))
            refunded = money(reversals["refunded"].get(c, [0, 0])[1])
            charged_back = money(reversals["chargeback"].get(c, [0, 0])[1])
            by_currency[c] = CurrencyRevenue(
                revenue=gross,
                net=round_money(Fraction(gross) - Fraction(refunded) - Fraction(charged_back)),
                completed_transactions=succeeded,
                average_transaction_value=average(gross, succeeded),
                platform_fees=round_money(fees[c]),
                creator_payouts=round_money(Fraction(gross) - fees[c]),
                refunds=refunded,
                chargebacks=charged_back,
                mrr=round_money(subs_end[c][1]) if c in subs_end else money(0),
            )
        exact = sum(by_type.values(), Fraction(0))
        total = round_money(exact)
        convertible = sum(v.completed_transactions for c, v in by_currency.items() if convert.can(c))
        # exact sums first, each shown figure rounded once (net and payouts not from rounded parts)
        fees_exact = convert.exact_total(fees)
        refunds_exact = convert.exact_total({c: v[1] for c, v in reversals["refunded"].items()})
        chargebacks_exact = convert.exact_total({c: v[1] for c, v in reversals["chargeback"].items()})
        active, paying = _count(rows, ACTIVE, self._active), _count(rows, PAYING, self._paying)
        return RevenueMetrics(
            currency=convert.reporting,
            gross=total,
            net=round_money(exact - refunds_exact - chargebacks_exact),
            total=total,
            by_type=dict(sorted((k, round_money(v)) for k, v in by_type.items())),
            by_currency=by_currency,
            completed_transactions=counts["succeeded"],
            average_transaction_value=average(exact, convertible),
            mrr=convert.total({c: v[1] for c, v in subs_end.items()}),
            active_subscriptions=sum(v[0] for v in subs_end.values()),
            platform_fees=round_money(fees_exact),
            platform_fees_at_default_rate=convert.total(estimated),
            creator_payouts=round_money(exact - fees_exact),
            refunds=sum(v[0] for v in reversals["refunded"].values()),
            refund_amount=round_money(refunds_exact),
            chargebacks=sum(v[0] for v in reversals["chargeback"].values()),
            chargeback_amount=round_money(chargebacks_exact),
            payment_attempts=counts["attempts"],
            payments_declined=counts["declined"],
            payments_failed=counts["failed"],
            payment_success_ratio=ratio(counts["succeeded"], counts["attempts"]),
            paying_users=paying,
            arpu=average(exact, active),
            arppu=average(exact, paying),
            unconverted_currencies=sorted(convert.missing),
        )


@dataclass(slots=True)
class SubscriptionsQuery:
    """Subscriptions recurring at the window's start and end, started and stopped within it."""

    window: Window
    _w: WindowKey = _NO_WINDOW
    _start: InstantKey = _NO_INSTANT
    _end: InstantKey = _NO_INSTANT

    def plan(self, p: ReportPlan) -> None:
        self._w = p.window(self.window)
        self._start, self._end = p.instant(self.window.start), p.instant(self.window.end)

    def read(self, rows: ReportRows) -> SubscriptionMetrics:
        facts = _Facts(rows, self._w)
        at_start = sum(v[0] for v in read_subscriptions(rows, self._start).values())
        started, stopped = facts.totals(SUB_STARTS)["count"], facts.totals(SUB_STOPS)["count"]
        return SubscriptionMetrics(
            active_at_start=at_start,
            active_at_end=sum(v[0] for v in read_subscriptions(rows, self._end).values()),
            new=started,
            churned=stopped,
            churn_rate=ratio(stopped, at_start + started),
        )


@dataclass(slots=True)
class UsersQuery:
    """Sign-ups, active users, DAU/WAU/MAU, the window's cohort retention, and its subscriptions."""

    window: Window
    subscriptions: SubscriptionsQuery = field(init=False)
    _w: WindowKey = _NO_WINDOW
    _counts: dict[str, CountKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.subscriptions = SubscriptionsQuery(self.window)

    def plan(self, p: ReportPlan) -> None:
        self._w = p.window(self.window)
        self._counts["active"] = p.distinct(ACTIVE, self.window)
        for name, days in (("dau", 1), ("wau", 7), ("mau", 30)):
            self._counts[name] = p.distinct(ACTIVE, trailing_days(self.window, days))
        self.subscriptions.plan(p)

    def read(self, rows: ReportRows) -> UserMetrics:
        signups = {r["role"]: r["count"] for r in _Facts(rows, self._w).rows_of(SIGNUPS)}
        size, retention = read_cohort(rows.of(CohortPart(), self._w))
        count = {name: _count(rows, ACTIVE, key) for name, key in self._counts.items()}
        return UserMetrics(
            new_users=sum(signups.values()),
            creator_signups=signups.get("creator", 0),
            fan_signups=signups.get("fan", 0),
            active_users=count["active"],
            dau=count["dau"],
            wau=count["wau"],
            mau=count["mau"],
            cohort_size=size,
            retention={
                f"day_{r.day}": RetentionFigure(eligible=r.eligible, retained=r.retained, rate=r.rate)
                for r in retention
            },
            subscriptions=self.subscriptions.read(rows),
        )


@dataclass(slots=True)
class ContentQuery:
    """Uploads by type, views, and the engagement rate of the window."""

    window: Window
    _w: WindowKey = _NO_WINDOW

    def plan(self, p: ReportPlan) -> None:
        self._w = p.window(self.window)

    def read(self, rows: ReportRows) -> ContentMetrics:
        facts = _Facts(rows, self._w)
        uploads = {r["type"]: r["count"] for r in facts.rows_of(UPLOADS)}
        likes, comments, shares, views = (facts.totals(f)["count"] for f in (LIKES, COMMENTS, SHARES, VIEWS))
        return ContentMetrics(
            total_uploads=sum(uploads.values()),
            uploads_by_type=dict(sorted(uploads.items())),
            total_views=views,
            engagement_rate=ratio(likes + comments + shares, views),
        )


@dataclass(slots=True)
class EngagementQuery:
    """Likes, comments, shares, sessions and their length, the weighted score per active user."""

    window: Window
    _w: WindowKey = _NO_WINDOW
    _active: CountKey = _NO_COUNT

    def plan(self, p: ReportPlan) -> None:
        self._w, self._active = p.window(self.window), p.distinct(ACTIVE, self.window)

    def read(self, rows: ReportRows) -> EngagementMetrics:
        facts = _Facts(rows, self._w)
        likes, comments, shares = (facts.totals(f)["count"] for f in (LIKES, COMMENTS, SHARES))
        sessions = facts.totals(SESSIONS)
        score = likes * ENGAGEMENT_WEIGHTS["likes"] + comments * ENGAGEMENT_WEIGHTS["comments"]
        score += shares * ENGAGEMENT_WEIGHTS["shares"]
        active = _count(rows, ACTIVE, self._active)
        # exact integer microseconds over ended sessions, shown as seconds rounded to milliseconds
        seconds = None if sessions["ended"] == 0 else round(sessions["duration_us"] / sessions["ended"] / 1e6, 3)
        return EngagementMetrics(
            likes=likes,
            comments=comments,
            shares=shares,
            sessions=sessions["started"],
            average_session_seconds=seconds,
            engagement_score=score,
            engagement_score_per_active_user=None if active == 0 else score / active,
        )
