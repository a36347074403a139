"""Every KPI of one window, computed in the database; Python only divides and converts totals.

Aggregation (sums, counts, distinct users) runs as SQL over rollups and the raw rows at
the window's edges (``covered_until_hour`` given) or over raw rows only (``None``); both
paths give identical figures. Python receives a few dozen aggregated numbers per window
and turns them into ratios and reporting-currency amounts with exact ``Decimal`` maths.

Currency conversion uses one set of rates for the whole report (each currency's latest
rate with ``valid_from`` before the current window's end), so a comparison between two
windows shows business change, not exchange-rate movement ("constant currency").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from .. import schema
from ._layout import Plan
from ._query_facts import fact_totals, money, read_fact, read_subscriptions, round_money
from ._query_users import read_cohort
from ._statement import StatementCache, execute
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
)
from .models import (
    BiMetrics,
    ContentMetrics,
    CurrencyRevenue,
    EngagementMetrics,
    RetentionFigure,
    RevenueMetrics,
    SubscriptionMetrics,
    UserMetrics,
)
from .window import Window, utc_day_floor

#: The guide's weights: a share is worth three likes, a comment two.
ENGAGEMENT_WEIGHTS = {"likes": 1, "comments": 2, "shares": 3}


def _div(num: Decimal | Fraction, den: int) -> Decimal | None:
    """An average of an exact sum, rounded once."""
    return None if den == 0 else round_money(Fraction(num) / den)


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def exchange_rates(conn: Connection, at: datetime) -> dict[str, Decimal]:
    """Each currency's latest USD rate with ``valid_from`` before ``at``."""
    r = schema.exchange_rates
    latest = (
        sa.select(r.c.currency, sa.func.max(r.c.valid_from).label("valid_from"))
        .where(r.c.valid_from < at)
        .group_by(r.c.currency)
        .subquery()
    )
    rows = conn.execute(
        sa.select(r.c.currency, r.c.rate_to_usd).join(
            latest, sa.and_(latest.c.currency == r.c.currency, latest.c.valid_from == r.c.valid_from)
        )
    )
    return {c: Decimal(str(v)) if isinstance(v, float) else Decimal(v) for c, v in rows}


class Converter:
    """Converts amounts to the reporting currency exactly; remembers currencies it could not convert.

    ``exact`` is the unrounded value (a ``Fraction``); ``total`` adds exact values and rounds
    once to four places (half to even), so a total never carries one rounding per currency.
    """

    def __init__(self, rates: dict[str, Decimal], reporting: str) -> None:
        self._rates = {"USD": Decimal(1), **rates}
        self.reporting = reporting
        self.missing: set[str] = set()

    def exact(self, amount: Decimal | Fraction, currency: str) -> Fraction | None:
        if currency == self.reporting:
            return Fraction(amount)
        src, dst = self._rates.get(currency), self._rates.get(self.reporting)
        if src is None or dst is None:
            self.missing.add(currency if src is None else self.reporting)
            return None
        return Fraction(amount) * Fraction(src) / Fraction(dst)

    def can(self, currency: str) -> bool:
        return currency == self.reporting or (currency in self._rates and self.reporting in self._rates)

    def total(self, amounts: Mapping[str, Decimal | Fraction]) -> Decimal:
        converted = (self.exact(a, c) for c, a in amounts.items())
        return round_money(sum((v for v in converted if v is not None), Fraction(0)))


class KpiEngine:
    """Computes ``BiMetrics`` for several windows on one connection, in one statement.

    The statement comes from ``statements`` (built once per shape); this object only
    works out the parameter rows (``_layout``) and assembles the aggregated rows.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        covered_until_hour: int | None,
        default_fee_rate: Decimal,
        statements: StatementCache | None = None,
    ) -> None:
        self._conn = conn
        self._covered = covered_until_hour
        self._fee_rate = default_fee_rate
        self._statements = statements if statements is not None else StatementCache()

    def metrics(self, windows: list[Window], platform: str | None, convert: Converter) -> list[BiMetrics]:
        plan = Plan(self._covered, platform)
        counts: dict[str, str] = {}  # distinct-count key -> its q{n} tag in the statement
        instants: list[tuple[str, str]] = []  # per window: instant keys of its start and end
        for w in windows:
            plan.add_window(w)
            instants.append((plan.add_instant(w.start), plan.add_instant(w.end)))
            plan.add_cohort(w)
            wanted = [(ACTIVE, w), (PAYING, w), *((ACTIVE, self._trailing(w, n)) for n in (1, 7, 30))]
            for activity, d in wanted:
                key = self._distinct_key(activity, d)
                if key not in counts:
                    counts[key] = f"q{len(plan.distinct)}"
                    plan.add_distinct(activity.kind, d)
        statement = self._statements.get(plan.shape())
        rows = execute(self._conn, statement, plan.values)
        values = {
            key: int(sum(r["users"] for r in rows.get(f"{q}:users:{key.split('@')[0]}", [])))
            for key, q in counts.items()
        }
        return [self._assemble(rows, values, i, w, instants[i], convert) for i, w in enumerate(windows)]

    def _distinct_key(self, activity: Activity, window: Window) -> str:
        return f"{activity.kind}@{window.start.isoformat()}/{window.end.isoformat()}"

    def _trailing(self, window: Window, days: int) -> Window:
        day_end = utc_day_floor(window.end)
        return Window(day_end - timedelta(days=days), day_end)

    def _assemble(
        self,
        rows: dict[str, list[dict[str, Any]]],
        values: dict[str, int],
        index: int,
        window: Window,
        instants: tuple[str, str],
        convert: Converter,
    ) -> BiMetrics:
        tag = f"w{index}"

        def fact(f: Any) -> list[dict[str, Any]]:
            return read_fact(rows.get(f"{tag}:{f.name}", []), f)

        def totals(f: Any) -> dict[str, Any]:
            return fact_totals(rows.get(f"{tag}:{f.name}", []), f)

        active = values.get(self._distinct_key(ACTIVE, window), 0)
        paying = values.get(self._distinct_key(PAYING, window), 0)
        subs_start = read_subscriptions(rows, instants[0])
        subs_end = read_subscriptions(rows, instants[1])
        revenue = self._revenue(fact(TX), fact(REVERSALS), subs_end, convert, active=active, paying=paying)
        signups = {r["role"]: r["count"] for r in fact(SIGNUPS)}
        size, retention = read_cohort(rows.get(f"{tag}:cohort", []))
        started, stopped = totals(SUB_STARTS)["count"], totals(SUB_STOPS)["count"]
        active_at_start = sum(v[0] for v in subs_start.values())
        users = UserMetrics(
            new_users=sum(signups.values()),
            creator_signups=signups.get("creator", 0),
            fan_signups=signups.get("fan", 0),
            active_users=active,
            dau=values.get(self._distinct_key(ACTIVE, self._trailing(window, 1)), 0),
            wau=values.get(self._distinct_key(ACTIVE, self._trailing(window, 7)), 0),
            mau=values.get(self._distinct_key(ACTIVE, self._trailing(window, 30)), 0),
            cohort_size=size,
            retention={
                f"day_{r.day}": RetentionFigure(eligible=r.eligible, retained=r.retained, rate=r.rate)
                for r in retention
            },
            subscriptions=SubscriptionMetrics(
                active_at_start=active_at_start,
                active_at_end=sum(v[0] for v in subs_end.values()),
                new=started,
                churned=stopped,
                churn_rate=_ratio(stopped, active_at_start + started),
            ),
        )
        likes, comments, shares, views = (totals(f)["count"] for f in (LIKES, COMMENTS, SHARES, VIEWS))
        sessions = totals(SESSIONS)
        uploads = {r["type"]: r["count"] for r in fact(UPLOADS)}
        score = likes * ENGAGEMENT_WEIGHTS["likes"] + comments * ENGAGEMENT_WEIGHTS["comments"]
        score += shares * ENGAGEMENT_WEIGHTS["shares"]
        avg_session = None if sessions["ended"] == 0 else round(sessions["duration_us"] / sessions["ended"] / 1e6, 3)
        engagement = EngagementMetrics(
            likes=likes,
            comments=comments,
            shares=shares,
            sessions=sessions["started"],
            average_session_seconds=avg_session,
            engagement_score=score,
            engagement_score_per_active_user=None if active == 0 else score / active,
        )
        content = ContentMetrics(
            total_uploads=sum(uploads.values()),
            uploads_by_type=dict(sorted(uploads.items())),
            total_views=views,
            engagement_rate=_ratio(likes + comments + shares, views),
        )
        return BiMetrics(revenue=revenue, users=users, content=content, engagement=engagement)

    def _revenue(
        self,
        tx: list[dict[str, Any]],
        reversal_rows: list[dict[str, Any]],
        subs_end: dict[str, tuple[int, Fraction]],
        convert: Converter,
        *,
        active: int,
        paying: int,
    ) -> RevenueMetrics:
        per_cur: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(lambda: Decimal(0)))
        by_type: dict[str, Fraction] = defaultdict(Fraction)
        counts = {"attempts": 0, "succeeded": 0, "declined": 0, "failed": 0}
        for row in tx:
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
        for row in reversal_rows:
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
            estimated[c] = Fraction(money(figures.get("gross_fee_missing", 0))) * Fraction(self._fee_rate)
            fees[c] = Fraction(money(figures.get("fee_recorded", 0))) + estimated[c]
            fee = round_money(fees[c])
            succeeded = int(figures.get("succeeded", 0))
            refunded = money(reversals["refunded"].get(c, [0, 0])[1])
            charged_back = money(reversals["chargeback"].get(c, [0, 0])[1])
            by_currency[c] = CurrencyRevenue(
                revenue=gross,
                net=gross - refunded - charged_back,
                completed_transactions=succeeded,
                average_transaction_value=_div(gross, succeeded),
                platform_fees=fee,
                creator_payouts=gross - fee,
                refunds=refunded,
                chargebacks=charged_back,
                mrr=round_money(subs_end[c][1]) if c in subs_end else money(0),
            )
        exact = sum(by_type.values(), Fraction(0))
        total = round_money(exact)
        convertible = sum(v.completed_transactions for c, v in by_currency.items() if convert.can(c))
        platform_fees = convert.total(fees)
        refund_amount = convert.total({c: v[1] for c, v in reversals["refunded"].items()})
        chargeback_amount = convert.total({c: v[1] for c, v in reversals["chargeback"].items()})
        return RevenueMetrics(
            currency=convert.reporting,
            gross=total,
            net=total - refund_amount - chargeback_amount,
            total=total,
            by_type=dict(sorted((k, round_money(v)) for k, v in by_type.items())),
            by_currency=by_currency,
            completed_transactions=counts["succeeded"],
            average_transaction_value=_div(exact, convertible),
            mrr=convert.total({c: v[1] for c, v in subs_end.items()}),
            active_subscriptions=sum(v[0] for v in subs_end.values()),
            platform_fees=platform_fees,
            platform_fees_at_default_rate=convert.total(estimated),
            creator_payouts=total - platform_fees,
            refunds=sum(v[0] for v in reversals["refunded"].values()),
            refund_amount=refund_amount,
            chargebacks=sum(v[0] for v in reversals["chargeback"].values()),
            chargeback_amount=chargeback_amount,
            payment_attempts=counts["attempts"],
            payments_declined=counts["declined"],
            payments_failed=counts["failed"],
            payment_success_ratio=_ratio(counts["succeeded"], counts["attempts"]),
            paying_users=paying,
            arpu=_div(exact, active),
            arppu=_div(exact, paying),
            unconverted_currencies=sorted(convert.missing),
        )
