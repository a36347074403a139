"""Growth without dividing by zero, and the guide's insight sentences."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fanzwatch.bi import BiMetrics, change, compare, insights
from fanzwatch.bi.compare import describe_length


@pytest.mark.parametrize(
    ("current", "previous", "growth", "percent", "delta"),
    [
        (Decimal("110.00"), Decimal("100.00"), "+10.0%", 10.0, Decimal("10.00")),
        (50, 200, "-75.0%", -75.0, -150),
        (7, 0, "new", None, 7),
        (0, 0, "n/a", None, 0),
        (0, 5, "-100.0%", -100.0, -5),
        (None, 3, "n/a", None, None),
        (0.5, 0.25, "+100.0%", 100.0, 0.25),
        (Decimal("1"), Decimal("3"), "-66.7%", -66.7, Decimal("-2")),
    ],
)
def test_change(current: Any, previous: Any, growth: str, percent: float | None, delta: Any) -> None:
    c = change(current, previous)
    assert (c.growth, c.growth_percent, c.delta) == (growth, percent, delta)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60, "1 minute"), (900, "15 minutes"), (3600, "1 hour"), (86400, "24 hours"), (7 * 86400, "7 days"),
     (90061, "90061 seconds")],
)  # fmt: skip
def test_describe_length(seconds: int, text: str) -> None:
    assert describe_length(seconds) == text


def _metrics(*, revenue: str, new_users: int, uploads: dict[str, int], score: float | None) -> BiMetrics:
    zero_money = Decimal("0.0000")
    rev: dict[str, Any] = {
        "currency": "USD", "gross": Decimal(revenue), "net": Decimal(revenue), "total": Decimal(revenue),
        "by_type": {}, "by_currency": {}, "completed_transactions": 0,
        "average_transaction_value": None, "mrr": zero_money, "active_subscriptions": 0, "platform_fees": zero_money,
        "platform_fees_at_default_rate": zero_money, "creator_payouts": zero_money, "refunds": 0,
        "refund_amount": zero_money, "chargebacks": 0, "chargeback_amount": zero_money, "payment_attempts": 0,
        "payments_declined": 0, "payments_failed": 0, "payment_success_ratio": None, "paying_users": 0,
        "arpu": None, "arppu": None, "unconverted_currencies": [],
    }  # fmt: skip
    subs = {"active_at_start": 0, "active_at_end": 0, "new": 0, "churned": 0, "churn_rate": None}
    users: dict[str, Any] = {
        "new_users": new_users, "creator_signups": 0, "fan_signups": new_users, "active_users": 0, "dau": 0,
        "wau": 0, "mau": 0, "cohort_size": 0, "retention": {}, "subscriptions": subs,
    }  # fmt: skip
    content = {"total_uploads": sum(uploads.values()), "uploads_by_type": uploads, "total_views": 0,
               "engagement_rate": None}  # fmt: skip
    engagement = {"likes": 0, "comments": 0, "shares": 0, "sessions": 0, "average_session_seconds": None,
                  "engagement_score": 0, "engagement_score_per_active_user": score}  # fmt: skip
    return BiMetrics.model_validate({"revenue": rev, "users": users, "content": content, "engagement": engagement})


def test_falling_revenue_and_engagement() -> None:
    now = _metrics(revenue="80", new_users=10, uploads={"video": 3, "audio": 3}, score=1.5)
    before = _metrics(revenue="100", new_users=9, uploads={}, score=2.0)
    assert insights(now, compare(now, before), window_seconds=7 * 86400) == [
        "📉 Gross revenue decreased by 20.0% compared to the previous 7 days",
        "🎨 Audio content is trending with 3 uploads in the last 7 days",  # ties: alphabetical
        "💡 Engagement per active user is down 25.0% - consider creator incentive programs",
    ]


def test_small_moves_say_nothing_and_nothing_divides_by_zero() -> None:
    now = _metrics(revenue="105", new_users=0, uploads={}, score=None)
    before = _metrics(revenue="100", new_users=0, uploads={}, score=None)
    changes = compare(now, before)
    assert insights(now, changes, window_seconds=86400) == []
    assert changes["users.new_users"].growth == "n/a"
    assert changes["engagement.engagement_score_per_active_user"].growth == "n/a"


def test_registrations_from_zero() -> None:
    now = _metrics(revenue="0", new_users=4, uploads={}, score=None)
    before = _metrics(revenue="0", new_users=0, uploads={}, score=None)
    assert insights(now, compare(now, before), window_seconds=3600) == [
        "🚀 4 user registrations, up from none in the previous 1 hour"
    ]
