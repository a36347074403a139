"""Exact KPIs of the hand-built market (tests/bi/conftest.py), on SQLite and PostgreSQL, raw and from rollups.

Current window [03-09 12:30, 03-10 12:30), previous [03-08 12:30, 03-09 12:30). Rates:
EUR 1.10 (a 2.00 rate starts exactly at the end: not used), JPY 0.0070, no GBP. Default fee 20 %.

Gross revenue (payments that went through, by created_at): t1 10 USD (at the start, inside),
t2 5.50 EUR, t3 1000 JPY, t7 7 GBP, t9 40 USD (fanz-2), t10 15 USD (charged back later, still
gross); t8 12 USD sits exactly at the end (outside); t4 failed, t5 declined; t6 (refunded)
was paid in the previous window. In USD: 65 + 5.50 x 1.10 + 1000 x 0.007 = 78.05 (GBP left
out, listed as unconverted). Refunds by refunded_at: t6 30 USD; chargebacks: t10 15 USD;
net = 78.05 - 30 - 15 = 33.05. Fees: USD 2 + 8 + 3, EUR 1.10 (default rate), JPY 200, GBP 1.40
→ 13 + 1.21 + 1.40 = 15.61. Previous window: t11 25 + t6 30 = 55 gross.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch import schema
from fanzwatch.bi import BiReport, RollupRefresher, Window
from fanzwatch.core import FrozenClock

from .conftest import NOW, at, load_market, make_service

D = Decimal
DAY = timedelta(hours=24)
# Every (window, platform) a test below asks for; computed once per backend and mode.
REPORTS: dict[str, tuple[Window, str | None]] = {
    "current": (Window.ending(NOW, DAY), None),
    "fanz-2": (Window.ending(NOW, DAY), "fanz-2"),
    "day-before": (Window.ending(at("03-09 12:30:00"), DAY), None),
    "empty": (Window(datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC)), None),
    "shifted": (Window.ending(NOW + timedelta(microseconds=1), DAY), None),
}
# How each mode reads: raw SQL; rollups to NOW's hour (the last half hour raw); rollups past every window.
MODES = {"raw": None, "rollups-to-now": NOW, "rollups-beyond": datetime(2026, 4, 20, tzinfo=UTC)}


@pytest.fixture(scope="module")
def all_reports(module_url: str) -> Iterator[dict[tuple[str, str], BiReport]]:
    engine = sa.create_engine(module_url)
    schema.create_all(engine)
    load_market(engine)
    service = make_service(engine, FrozenClock(NOW))
    out: dict[tuple[str, str], BiReport] = {}
    for mode, rollup_time in MODES.items():
        if rollup_time is not None:
            RollupRefresher(engine, clock=FrozenClock(rollup_time)).refresh(rebuild=True)
        for name, (window, platform) in REPORTS.items():
            report = service.compute(window, platform=platform, raw=rollup_time is None)
            assert report.source == ("raw" if rollup_time is None else "rollups")
            out[(mode, name)] = report
    yield out
    engine.dispose()


@pytest.fixture(params=list(MODES))
def report_of(request: pytest.FixtureRequest, all_reports: dict[tuple[str, str], BiReport]) -> Callable[..., BiReport]:
    def report(name: str = "current") -> BiReport:
        return all_reports[(request.param, name)]

    return report


def test_revenue_of_the_current_window(report_of: Callable[..., BiReport]) -> None:
    r = report_of().current.revenue
    assert r.currency == "USD"
    assert r.gross == r.total == D("78.0500")
    assert r.net == D("33.0500")
    assert r.by_type == {"ppv": D("21.0500"), "subscription": D("7.0000"), "tip": D("50.0000")}
    assert r.completed_transactions == 6
    assert r.average_transaction_value == D("15.6100")  # 78.05 over the 5 convertible payments
    assert r.platform_fees == D("15.6100")
    assert r.platform_fees_at_default_rate == D("1.2100")
    assert r.creator_payouts == D("62.4400")
    assert (r.refunds, r.refund_amount) == (1, D("30.0000"))  # t6: created before, refunded inside
    assert (r.chargebacks, r.chargeback_amount) == (1, D("15.0000"))
    assert (r.payment_attempts, r.payments_declined, r.payments_failed) == (8, 1, 1)
    assert r.payment_success_ratio == 0.75  # completed + charged back, over every attempt
    assert r.paying_users == 3
    assert r.arpu == D("26.0167")
    assert r.arppu == D("26.0167")
    assert r.mrr == D("20.9900")  # 9.99 USD + 120 EUR / 12 months x 1.10
    assert r.active_subscriptions == 2
    assert r.unconverted_currencies == ["GBP"]
    usd, eur, gbp = r.by_currency["USD"], r.by_currency["EUR"], r.by_currency["GBP"]
    assert (usd.revenue, usd.completed_transactions, usd.average_transaction_value) == (D("65.0000"), 3, D("21.6667"))
    assert (usd.platform_fees, usd.creator_payouts, usd.net) == (D("13.0000"), D("52.0000"), D("20.0000"))
    assert (usd.refunds, usd.chargebacks, usd.mrr) == (D("30.0000"), D("15.0000"), D("9.9900"))
    assert (eur.revenue, eur.platform_fees, eur.creator_payouts, eur.mrr) == (
        D("5.5000"),
        D("1.1000"),
        D("4.4000"),
        D("10.0000"),
    )
    assert (gbp.revenue, gbp.platform_fees) == (D("7.0000"), D("1.4000"))
    assert r.by_currency["JPY"].revenue == D("1000.0000")
    assert sorted(r.by_currency) == ["EUR", "GBP", "JPY", "USD"]


def test_users_content_and_engagement_of_the_current_window(report_of: Callable[..., BiReport]) -> None:
    m = report_of().current
    u = m.users
    assert (u.new_users, u.creator_signups, u.fan_signups) == (3, 1, 2)  # u2 at the start in, u4 at the end out
    assert u.active_users == 3
    assert (u.dau, u.wau, u.mau) == (2, 3, 3)
    assert u.cohort_size == 3
    assert {k: (v.eligible, v.retained, v.rate) for k, v in u.retention.items()} == {
        "day_1": (0, 0, None),
        "day_7": (0, 0, None),
        "day_30": (0, 0, None),
    }
    s = u.subscriptions
    assert (s.active_at_start, s.active_at_end, s.new, s.churned) == (2, 2, 1, 1)
    assert s.churn_rate == pytest.approx(1 / 3, abs=0)
    c = m.content
    assert (c.total_uploads, c.uploads_by_type) == (4, {"audio": 1, "image": 2, "video": 1})
    assert (c.total_views, c.engagement_rate) == (8, 0.75)
    e = m.engagement
    assert (e.likes, e.comments, e.shares, e.sessions) == (3, 2, 1, 4)
    assert e.average_session_seconds == 820.167  # (600 + 1800 + 60.5) / 3; the open session is left out
    assert e.engagement_score == 10
    assert e.engagement_score_per_active_user == 10 / 3


def test_previous_window_changes_and_insights(report_of: Callable[..., BiReport]) -> None:
    report = report_of()
    assert report.previous_window.start == datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
    assert report.previous_window.end == report.window.start == datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    p = report.previous
    assert (p.revenue.total, p.revenue.by_type, p.revenue.completed_transactions) == (
        D("55.0000"),
        {"tip": D("55.0000")},
        2,
    )
    assert p.revenue.net == D("55.0000")  # t6's refund lands in the current window, not here
    assert (p.revenue.payment_attempts, p.revenue.payment_success_ratio) == (2, 1.0)  # a refunded payment succeeded
    assert (p.revenue.mrr, p.revenue.refunds) == (D("14.9900"), 0)
    assert (p.users.new_users, p.users.active_users, p.users.dau, p.users.wau, p.users.mau) == (1, 1, 1, 1, 2)
    assert (p.users.subscriptions.active_at_start, p.users.subscriptions.churned) == (3, 1)
    assert (p.content.total_views, p.engagement.average_session_seconds) == (2, 300.0)
    ch = report.changes
    assert ch["revenue.total"].model_dump() == {
        "current": D("78.0500"),
        "previous": D("55.0000"),
        "delta": D("23.0500"),
        "growth_percent": 41.9,
        "growth": "+41.9%",
    }
    assert (ch["users.new_users"].growth, ch["users.new_users"].delta) == ("+200.0%", 2)
    assert ch["revenue.refunds"].growth == "new"
    assert ch["revenue.by_currency.GBP.revenue"].growth == "new"
    assert ch["revenue.payment_success_ratio"].growth == "-25.0%"
    assert ch["users.retention.day_1.rate"].growth == "n/a"
    assert ch["engagement.engagement_score_per_active_user"].growth == "+233.3%"
    assert report.insights == [
        "📈 Gross revenue increased by 41.9% compared to the previous 24 hours",
        "🚀 User registrations up 200.0% - consider scaling infrastructure",
        "🎨 Image content is trending with 2 uploads in the last 24 hours",
    ]


def test_one_platform(report_of: Callable[..., BiReport]) -> None:
    m = report_of("fanz-2").current
    assert (m.revenue.total, m.revenue.paying_users, m.revenue.mrr, m.revenue.active_subscriptions) == (
        D("40.0000"),
        1,
        D("0.0000"),
        0,
    )
    assert (m.users.active_users, m.users.new_users, m.engagement.average_session_seconds) == (1, 1, 60.5)
    assert (m.content.uploads_by_type, m.content.total_views, m.content.engagement_rate) == ({"audio": 1}, 1, 1.0)


def test_zero_previous_period_says_new(report_of: Callable[..., BiReport]) -> None:
    report = report_of("day-before")
    assert report.current.revenue.total == D("55.0000")
    assert report.previous.revenue.total == D("0.0000")
    assert report.changes["revenue.total"].growth == "new"
    assert report.changes["revenue.total"].growth_percent is None
    assert report.insights[0] == "📈 Gross revenue of 55.0000 USD, up from none in the previous 24 hours"


def test_an_empty_window_has_zeros_and_undefined_ratios(report_of: Callable[..., BiReport]) -> None:
    report = report_of("empty")
    r = report.current.revenue
    assert (r.total, r.completed_transactions, r.payment_attempts) == (D("0.0000"), 0, 0)
    assert (r.average_transaction_value, r.payment_success_ratio, r.arpu, r.arppu) == (None, None, None, None)
    assert report.current.content.engagement_rate is None
    assert report.current.engagement.average_session_seconds is None
    assert report.current.users.subscriptions.churn_rate is None
    assert report.changes["revenue.total"].growth == "n/a"
    assert report.insights == []


def test_a_window_given_in_another_time_zone_is_the_same_utc_window(module_url: str) -> None:
    market = sa.create_engine(module_url)
    service = make_service(market, FrozenClock(NOW), use_rollups=False)
    plus_two = timezone(timedelta(hours=2))
    report = service.report("24h", end=datetime(2026, 3, 10, 14, 30, tzinfo=plus_two))
    assert report.window.start == datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
    assert report.window.end == NOW
    assert report.current.revenue.total == D("78.0500")
    market.dispose()


def test_the_window_edges_are_half_open(report_of: Callable[..., BiReport]) -> None:
    # One microsecond later: t1 (at the old start) leaves, t8 (at the old end) enters, and the EUR
    # rate that starts exactly at the old end now applies: 65 - 10 + 12 + 5.50 x 2.00 + 7 (JPY) = 85.
    shifted = report_of("shifted").current.revenue
    assert shifted.total == D("85.0000")
    assert shifted.completed_transactions == 6
    assert shifted.by_type["ppv"] == D("26.0000")


@pytest.mark.postgres
def test_postgresql_runs_the_prepared_statement_with_the_same_figures(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg gets the statements once per shape with ``$n`` placeholders and prepares them once per
    connection (one of rollups only, one of platform tables); their figures are those of the plain
    SQLAlchemy execution of the same statements."""
    from fanzwatch.bi import _statement

    engine = sa.create_engine(pg_url, pool_size=1, max_overflow=0)  # one connection: its prepared statements
    schema.create_all(engine)
    load_market(engine)
    RollupRefresher(engine, clock=FrozenClock(NOW)).refresh(rebuild=True)
    service = make_service(engine, FrozenClock(NOW))
    windows = [Window.ending(NOW - timedelta(minutes=7 * i), DAY) for i in range(3)]  # one shape
    native = [service.compute(w) for w in windows]
    with engine.connect() as conn:
        prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    report_statements = [s for s in prepared if "UNION ALL" in s]
    assert len(report_statements) == 2, "two prepared statements for the three reports of one shape"
    assert all("$1" in s and "%(" not in s for s in report_statements)
    platform_tables = [f"FROM {t.name} " for t in schema.TABLES]
    rollup_only = [s for s in report_statements if not any(name in s for name in platform_tables)]
    assert len(rollup_only) == 1 and "bi_tx_hourly" in rollup_only[0]

    def through_sqlalchemy(
        conn: sa.Connection, statement: _statement.ReportStatement, params: dict[str, Any]
    ) -> list[Any]:
        return [row for part in statement.statements for row in conn.execute(part, params)]

    monkeypatch.setattr(_statement, "_fetch", through_sqlalchemy)
    plain = [service.compute(w) for w in windows]
    for a, b in zip(native, plain, strict=True):
        assert (a.current, a.previous) == (b.current, b.previous)
    assert native[0].current.revenue.gross == D("78.0500")
    engine.dispose()
