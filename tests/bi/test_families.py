"""A KPI family plans and reads on its own: the composition adds nothing but the round trip."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from fanzwatch.bi import Window
from fanzwatch.bi._keys import FactPart, ReportRows, Tag, WindowKey
from fanzwatch.bi._statement import StatementCache
from fanzwatch.bi.currency import Converter
from fanzwatch.bi.families import ContentQuery, EngagementQuery, ReportPlan, RevenueQuery, SubscriptionsQuery

from .conftest import NOW, load_market


def test_one_family_alone_reads_the_same_figures_as_the_whole_report(engine: sa.Engine) -> None:
    load_market(engine)
    window = Window.ending(NOW, timedelta(hours=24))
    plan = ReportPlan(covered_until_hour=None, platform=None)
    content, subs = ContentQuery(window), SubscriptionsQuery(window)
    content.plan(plan)
    subs.plan(plan)
    with engine.connect() as conn:
        rows = plan.run(conn, StatementCache())
    c, s = content.read(rows), subs.read(rows)
    assert (c.total_uploads, c.uploads_by_type, c.total_views, c.engagement_rate) == (
        4,
        {"audio": 1, "image": 2, "video": 1},
        8,
        0.75,
    )
    assert (s.active_at_start, s.active_at_end, s.new, s.churned) == (2, 2, 1, 1)
    # rows are addressed by typed tags; a tag nobody planned reads as no rows, never as a typo'd string
    assert rows[Tag(FactPart("upload"), WindowKey(0))]
    assert rows[Tag(FactPart("upload"), WindowKey(7))] == []


def test_a_family_alone_plans_its_own_distinct_count(engine: sa.Engine) -> None:
    load_market(engine)
    window = Window.ending(NOW, timedelta(hours=24))
    plan = ReportPlan(covered_until_hour=None, platform=None)
    engagement = EngagementQuery(window)
    engagement.plan(plan)
    with engine.connect() as conn:
        rows = plan.run(conn, StatementCache())
    e = engagement.read(rows)
    assert (e.likes, e.comments, e.shares, e.sessions, e.engagement_score) == (3, 2, 1, 4, 10)
    assert e.engagement_score_per_active_user == 10 / 3  # its own distinct count of active users


def test_net_revenue_and_payouts_are_exact_sums_rounded_once() -> None:
    """6.0001 EUR at 2.5 USD is 15.00025 USD (shown 15.0002); a 0.0003 EUR refund is 0.00075 (shown 0.0008).

    From rounded parts net would be 15.0002 - 0.0008 = 14.9994; exactly it is 14.9995. With a
    50 % default fee rate the EUR fee is 3.00005 (shown 3.0000): payouts are 3.00005 → 3.0000,
    not 6.0001 - 3.0000 = 3.0001.
    """
    window = Window.ending(NOW, timedelta(hours=24))
    revenue = RevenueQuery(window, Converter({"EUR": Decimal("2.5")}, "USD"), Decimal("0.5"))
    revenue.plan(ReportPlan(covered_until_hour=None, platform=None))
    tx = {"type": "tip", "currency": "EUR", "attempts": 1, "succeeded": 1, "declined": 0, "failed": 0}
    money = {"gross": Decimal("6.0001"), "fee_recorded": Decimal(0), "gross_fee_missing": Decimal("6.0001")}
    refund = {"type": "tip", "currency": "EUR", "status": "refunded", "count": 1, "amount": Decimal("0.0003")}
    rows = ReportRows(
        {Tag(FactPart("tx"), WindowKey(0)): [tx | money], Tag(FactPart("reversal"), WindowKey(0)): [refund]}
    )
    r = revenue.read(rows)
    assert (r.gross, r.refund_amount, r.net) == (Decimal("15.0002"), Decimal("0.0008"), Decimal("14.9995"))
    assert (r.platform_fees, r.creator_payouts) == (Decimal("7.5001"), Decimal("7.5001"))  # 7.500125 each
    eur = r.by_currency["EUR"]
    assert (eur.revenue, eur.platform_fees, eur.creator_payouts) == (
        Decimal("6.0001"),
        Decimal("3.0000"),
        Decimal("3.0000"),
    )
    assert eur.net == Decimal("5.9998")
