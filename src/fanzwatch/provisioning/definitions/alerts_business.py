"""Business alerts: registrations and payments (the guide's 4 and 5).

``LowUserRegistrations`` compares each platform's last hour with **the same hour a week
earlier** (``offset 1w``), so the normal night-time dip never fires it, and it only
speaks when last week's hour had enough sign-ups for "half" to mean something.
``PaymentFailureRate`` filters on the ``status`` label the catalog's payment counter
carries (the guide's counter had none) and counts processing failures (``failed``),
not card declines, which are the customer's bank saying no.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import recording as rec
from .._output import human_duration
from ..rules import AlertRule, RuleGroup
from .recording import DEFAULT_RATE_WINDOW

REGISTRATIONS_DROP = 0.5
"""Fire below this share of the same hour last week."""
REGISTRATIONS_MIN_BASELINE = 20
"""Registrations in last week's hour below which the comparison is too noisy."""
PAYMENT_FAILURE_RATIO = 0.05
PAYMENT_MIN_ATTEMPTS = 10
"""Payment attempts in the rate window (5 minutes by default) below which a failure ratio
is too noisy to page on. A count, not a rate: noise depends on how many attempts there were."""

_NOW = "sum by (platform) (increase(fanz_user_registrations_total[1h]))"
_LAST_WEEK = "sum by (platform) (increase(fanz_user_registrations_total[1h] offset 1w))"

LOW_REGISTRATIONS = AlertRule(
    name="LowUserRegistrations",
    # Raw counters rather than the recorded hourly series: `offset 1w` on a recorded
    # series would stay empty for the first week after the rules are installed.
    expr=(
        f"{_NOW}\n< {REGISTRATIONS_DROP} * {_LAST_WEEK}\n"
        f"and on (platform)\n{_LAST_WEEK} >= {REGISTRATIONS_MIN_BASELINE}"
    ),
    hold=timedelta(minutes=30),
    severity=Severity.WARNING,
    service="business",
    summary="Registrations on {{ $labels.platform }} fell below half of the same hour last week",
    description=(
        "{{ $value | humanize }} users registered on {{ $labels.platform }} in the last hour, "
        "less than half of the same hour a week ago."
    ),
)


def payment_failure_rate(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> AlertRule:
    return AlertRule(
        name="PaymentFailureRate",
        expr=(
            f"{rec.PAYMENT_FAILURE_RATIO.name} > {PAYMENT_FAILURE_RATIO}\n"
            f"and {rec.PAYMENT_ATTEMPTS.name} >= {PAYMENT_MIN_ATTEMPTS}"
        ),
        hold=timedelta(minutes=1),
        severity=Severity.CRITICAL,
        service="payments",
        summary="Payments failing on {{ $labels.platform }}",
        description=(
            "{{ $value | humanizePercentage }} of payment attempts on {{ $labels.platform }} failed "
            f"in processing over the last {human_duration(rate_window)} (threshold {PAYMENT_FAILURE_RATIO:.0%})."
        ),
    )


def business_group(rate_window: timedelta = DEFAULT_RATE_WINDOW) -> RuleGroup:
    return RuleGroup("fanzwatch.business", "business", (LOW_REGISTRATIONS, payment_failure_rate(rate_window)))


BUSINESS = business_group()
BUSINESS_ALERTS = BUSINESS.alerts()
