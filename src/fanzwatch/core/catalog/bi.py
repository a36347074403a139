"""Metrics of business intelligence: key creator-economy KPIs computed from the platform database.

The fanzwatch server exports these from the BI rollups (``fanzwatch.bi.metrics``) so
alert rules, the anomaly engine and dashboards can use business figures that are exact
(completed payments only, never mixed across currencies) rather than estimated from
request counters. Rates are over the configured ``FANZWATCH_BI_METRICS_WINDOW``
(default 15 minutes) ending at the scrape.
"""

from __future__ import annotations

from ._spec import PLATFORM, Label, MetricKind, MetricSpec, Source
from .business import ROLES

CURRENCY = Label("currency", "ISO 4217 code of the amounts; bounded by the standard, never mixed in one series")
REVERSAL = Label("status", "how the money went back", ("refunded", "chargeback"))

REVENUE_PER_MINUTE = MetricSpec(
    name="fanz_bi_revenue_per_minute",
    kind=MetricKind.GAUGE,
    unit="currency units per minute",
    help="Gross revenue (payments that went through, by payment time) per minute over the BI metrics window, "
    "in the label's currency.",
    labels=(PLATFORM, CURRENCY),
    source=Source.SERVER,
    guide_name="total_revenue",
    guide_note="gross: payments that went through (a later refund does not remove them), per currency; "
    "a rate so dashboards and the anomaly engine can use it",
)
PAYMENT_SUCCESS_RATIO = MetricSpec(
    name="fanz_bi_payment_success_ratio",
    kind=MetricKind.GAUGE,
    unit="ratio",
    help="Payments that succeeded (completed, later refunded or charged back) over all attempts in the window; "
    "absent when there were no attempts.",
    labels=(PLATFORM,),
    source=Source.SERVER,
    guide_name="payment success rate",
)
PAYMENT_ATTEMPTS_PER_MINUTE = MetricSpec(
    name="fanz_bi_payment_attempts_per_minute",
    kind=MetricKind.GAUGE,
    unit="attempts per minute",
    help="Payment attempts of any outcome per minute over the BI metrics window (weights the success ratio).",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
MRR = MetricSpec(
    name="fanz_bi_monthly_recurring_revenue",
    kind=MetricKind.GAUGE,
    unit="currency units per month",
    help="Monthly recurring revenue of subscriptions recurring now (price / billing months), per currency.",
    labels=(PLATFORM, CURRENCY),
    source=Source.SERVER,
    guide_name="monthly_recurring_revenue",
    guide_note="from active subscriptions, not the day's subscription payments",
)
ACTIVE_SUBSCRIPTIONS = MetricSpec(
    name="fanz_bi_active_subscriptions",
    kind=MetricKind.GAUGE,
    unit="subscriptions",
    help="Subscriptions recurring now.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
DAILY_ACTIVE_USERS = MetricSpec(
    name="fanz_bi_daily_active_users",
    kind=MetricKind.GAUGE,
    unit="users",
    help="Distinct users with a session on the last complete UTC day.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
MONTHLY_ACTIVE_USERS = MetricSpec(
    name="fanz_bi_monthly_active_users",
    kind=MetricKind.GAUGE,
    unit="users",
    help="Distinct users with a session on the last 30 complete UTC days.",
    labels=(PLATFORM,),
    source=Source.SERVER,
)
SIGNUPS_PER_HOUR = MetricSpec(
    name="fanz_bi_signups_per_hour",
    kind=MetricKind.GAUGE,
    unit="users per hour",
    help="New accounts per hour over the BI metrics window.",
    labels=(PLATFORM, Label("role", "fan or creator", ROLES)),
    source=Source.SERVER,
    guide_name="new_users / creator_signups",
)
REVERSALS_PER_HOUR = MetricSpec(
    name="fanz_bi_reversals_per_hour",
    kind=MetricKind.GAUGE,
    unit="transactions per hour",
    help="Refunds and chargebacks per hour over the BI metrics window (by when the money went back).",
    labels=(PLATFORM, REVERSAL),
    source=Source.SERVER,
)

METRICS: tuple[MetricSpec, ...] = (
    REVENUE_PER_MINUTE,
    PAYMENT_SUCCESS_RATIO,
    PAYMENT_ATTEMPTS_PER_MINUTE,
    MRR,
    ACTIVE_SUBSCRIPTIONS,
    DAILY_ACTIVE_USERS,
    MONTHLY_ACTIVE_USERS,
    SIGNUPS_PER_HOUR,
    REVERSALS_PER_HOUR,
)
