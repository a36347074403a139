"""The BI report as typed models: what the JSON API returns and the CLI prints.

Money is ``Decimal`` (serialised as a string in JSON, so no float rounding on the way);
ratios are floats in 0..1; ``None`` means "undefined" (e.g. an average over nothing),
never zero.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class CurrencyRevenue(_Model):
    """Revenue figures in one original currency (never mixed with another)."""

    revenue: Decimal = Field(description="gross: payments that went through in the window, by payment time")
    net: Decimal = Field(description="revenue - refunds - chargebacks (each by its own time)")
    completed_transactions: int = Field(description="payments that went through in the window")
    average_transaction_value: Decimal | None
    platform_fees: Decimal
    creator_payouts: Decimal
    refunds: Decimal = Field(description="amount refunded in the window (by refunded_at)")
    chargebacks: Decimal = Field(description="amount charged back in the window (by refunded_at)")
    mrr: Decimal


class RevenueMetrics(_Model):
    currency: str = Field(description="reporting currency of every converted figure")
    gross: Decimal = Field(
        description="payments that went through in the window (completed, or refunded/charged back later), "
        "by payment time, converted: a later refund never changes it"
    )
    net: Decimal = Field(description="gross - refund_amount - chargeback_amount, converted")
    total: Decimal = Field(description="the same as gross (the field's name before gross/net existed)")
    by_type: dict[str, Decimal] = Field(description="gross by payment type, converted")
    by_currency: dict[str, CurrencyRevenue]
    completed_transactions: int = Field(description="payments that went through in the window (gross's count)")
    average_transaction_value: Decimal | None
    mrr: Decimal = Field(description="monthly recurring revenue of subscriptions recurring at the window end")
    active_subscriptions: int
    platform_fees: Decimal
    platform_fees_at_default_rate: Decimal = Field(description="part of platform_fees estimated with the default rate")
    creator_payouts: Decimal
    refunds: int
    refund_amount: Decimal
    chargebacks: int
    chargeback_amount: Decimal
    payment_attempts: int
    payments_declined: int
    payments_failed: int
    payment_success_ratio: float | None
    paying_users: int
    arpu: Decimal | None = Field(description="gross per active user")
    arppu: Decimal | None = Field(description="gross per paying user")
    unconverted_currencies: list[str] = Field(description="currencies without an exchange rate: left out of totals")


class RetentionFigure(_Model):
    eligible: int = Field(description="cohort members whose day N has ended")
    retained: int = Field(description="of those, members active on day N")
    rate: float | None


class SubscriptionMetrics(_Model):
    active_at_start: int
    active_at_end: int
    new: int
    churned: int = Field(description="subscriptions that stopped recurring in the window")
    churn_rate: float | None = Field(
        description="churned / (active_at_start + new): the share of subscriptions recurring during the window "
        "that stopped; None when there were none"
    )


class UserMetrics(_Model):
    new_users: int
    creator_signups: int
    fan_signups: int
    active_users: int = Field(description="distinct users with a session starting in the window")
    dau: int = Field(description="distinct users active on the last complete UTC day before the window end")
    wau: int = Field(description="... on the last 7 complete UTC days")
    mau: int = Field(description="... on the last 30 complete UTC days")
    cohort_size: int
    retention: dict[str, RetentionFigure]
    subscriptions: SubscriptionMetrics


class ContentMetrics(_Model):
    total_uploads: int
    uploads_by_type: dict[str, int]
    total_views: int
    engagement_rate: float | None = Field(description="(likes + comments + shares) / views")


class EngagementMetrics(_Model):
    likes: int
    comments: int
    shares: int
    sessions: int
    average_session_seconds: float | None = Field(description="over sessions that started in the window and ended")
    engagement_score: int = Field(description="likes + 2 x comments + 3 x shares")
    engagement_score_per_active_user: float | None


class BiMetrics(_Model):
    revenue: RevenueMetrics
    users: UserMetrics
    content: ContentMetrics
    engagement: EngagementMetrics


class WindowModel(_Model):
    start: datetime
    end: datetime
    seconds: int


class Change(_Model):
    """One metric now and in the previous window."""

    current: Decimal | float | int | None
    previous: Decimal | float | int | None
    delta: Decimal | float | int | None
    growth_percent: float | None
    growth: str = Field(description='"+12.5%", "-3.0%", "0.0%", "new" (from zero) or "n/a" (undefined)')


class BiReport(_Model):
    window: WindowModel
    previous_window: WindowModel
    platform: str | None = Field(description="None: all platforms")
    generated_at: datetime
    source: str = Field(description='"rollups" or "raw"')
    rollups_cover_until: datetime | None
    current: BiMetrics
    previous: BiMetrics
    changes: dict[str, Change]
    insights: list[str]
