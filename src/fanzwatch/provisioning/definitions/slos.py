"""FANZ's SLOs: the API per platform (as its requests and as outside probes see it), the money
flows, and the performance budgets of the pages as real browsers see them (RUM).

Each is grouped by platform (one SLI, budget and alert per platform). The two money SLOs
price a bad event at the platform's average completed payment of the same kind and
currency over the last day, so their budgets read in money as well as in percent; the
checkout SLO's money lost is counted (``fanz_payment_failed_value_total``: what the failed
attempts were worth), the renewal SLO's priced.
Declines are the fan's bank saying no, not our failure: only ``failed`` payments are bad.

The performance budgets are latency SLIs over the RUM histograms, one per platform and
page template (``page_template`` is bounded by ``rum.max_page_templates``, never a raw URL):
LCP within 2.5 s and INP within 200 ms for 75 % of page views (the Web Vitals "good"
thresholds at the percentile they are judged at), and page load within 3 s for 95 % of
views (a p95 budget). The API's p95 budget is ``api-latency`` (95 % within 1 s, the
guide's ``HighResponseTime`` threshold). Their budgets are large (25 % of views for
LCP/INP), so the SRE workbook's 14.4× tier could never fire; they have their own tiers:
half of all views poor for an hour, and the budget spent at 1× over a day. Neither
pages: a slow page is a ticket for the team that owns it.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog.http import HTTP_SERVER_REQUEST_DURATION
from ...core.catalog.probes import JOURNEY_QUORUM_FAILING
from ...core.catalog.rum import RUM_INP, RUM_LCP, RUM_PAGE_LOAD, VITAL_THRESHOLDS
from ..slo import SLO, BurnRateTier, SloPeriod, flag_sli, latency_sli, money_value, probe_sli, ratio_sli
from .probes import PLATFORM_PAGE_PROBE

_REQUESTS = f"{HTTP_SERVER_REQUEST_DURATION.name}_count"
_PAYMENTS = "fanz_payment_transactions_total"
_RENEWALS = "fanz_subscription_renewals_total"
PPV_ROUTE = "/p/{platform}/api/v1/content/{content_id}/purchases"
"""The demo platform's pay-per-view purchase route: a fan pays and the content unlocks."""


def _average_payment(where: str) -> str:
    sel = f"{{{where}}}" if where else ""
    completed = f'{{{where + ", " if where else ""}status="completed"}}'
    return (
        f"sum by (platform, currency) (rate(fanz_revenue_total{sel}[1d]))\n"
        f"/ sum by (platform, currency) (rate({_PAYMENTS}{completed}[1d]))"
    )


API_AVAILABILITY = SLO(
    name="api-availability",
    service="fanz-platform",
    sli=ratio_sli(_REQUESTS, bad='status_class="5xx"'),
    objective=0.999,
    description="API requests answered without a 5xx",
)
API_LATENCY = SLO(
    name="api-latency",
    service="fanz-platform",
    sli=latency_sli(HTTP_SERVER_REQUEST_DURATION.name, threshold=1.0),
    objective=0.95,
    description="API requests answered within 1 s",
)
PROBE_AVAILABILITY = SLO(
    name="probe-availability",
    service="fanz-platform",
    sli=probe_sli(PLATFORM_PAGE_PROBE.name),
    objective=0.999,
    description="Landing-page probes from outside (blackbox_exporter) that passed",
)
JOURNEY_AVAILABILITY = SLO(
    name="journey-availability",
    service="payments",
    sli=flag_sli(JOURNEY_QUORUM_FAILING.name),
    objective=0.995,
    description="Time the money journey (sign in, subscribe, tip, unlock PPV) worked, by a quorum of probe locations",
    # Events are rule evaluations: a quiet hour still has them. The guard only waits for the
    # first ones after the prober starts (a minute of evaluations at 15 s).
    min_events=4,
)
CHECKOUT_SUCCESS = SLO(
    name="checkout-success",
    service="payments",
    sli=ratio_sli(_PAYMENTS, bad='status="failed"'),
    objective=0.995,
    period=SloPeriod.CALENDAR_MONTH,
    description="Payment attempts the processor did not fail",
    value=money_value(
        _PAYMENTS, price=_average_payment(""), bad='status="failed"', bad_value="fanz_payment_failed_value_total"
    ),
)
SUBSCRIPTION_RENEWAL_SUCCESS = SLO(
    name="subscription-renewal-success",
    service="payments",
    sli=ratio_sli(_RENEWALS, bad='status="failed"'),
    objective=0.995,
    period=SloPeriod.CALENDAR_MONTH,
    description="Subscription renewals the processor did not fail",
    value=money_value(_RENEWALS, price=_average_payment('payment_type="subscription"'), bad='status="failed"'),
)
PAYOUT_ON_TIME = SLO(
    name="payout-on-time",
    service="payments",
    sli=ratio_sli("fanz_creator_payouts_total", good='status="on_time"'),
    objective=0.99,
    description="Creator payouts paid by their due date",
    min_events=5,
)
PPV_UNLOCK_LATENCY = SLO(
    name="ppv-unlock-latency",
    service="payments",
    sli=latency_sli(HTTP_SERVER_REQUEST_DURATION.name, threshold=2.0, where=f'http_route="{PPV_ROUTE}"'),
    objective=0.99,
    period=SloPeriod.ROLLING_28D,
    description="Pay-per-view purchases unlocked within 2 s",
)

PERFORMANCE_SERVICE = "web-performance"
"""The service of the performance budgets: FanzDash shows them as a section of their own."""
PERFORMANCE_TIERS = (
    BurnRateTier("fast", "PerformanceBudgetBurnFast", 2.0, "1h", "5m", Severity.WARNING, timedelta(minutes=10)),
    BurnRateTier("slow", "PerformanceBudgetBurnSlow", 1.0, "1d", "2h", Severity.INFO, timedelta(hours=1)),
)
"""Twice the budget's share of poor views over an hour (still so over 5 minutes), or the
budget's share over a day (and 2 hours): a P1 and a P2 ticket; the fast one mutes the slow."""
_PAGE = ("platform", "page_template")


def _page_budget(name: str, histogram: str, threshold: float, objective: float, description: str) -> SLO:
    return SLO(
        name=name,
        service=PERFORMANCE_SERVICE,
        sli=latency_sli(histogram, threshold=threshold, by=_PAGE),
        objective=objective,
        period=SloPeriod.ROLLING_28D,
        group_by=_PAGE,
        tiers=PERFORMANCE_TIERS,
        min_events=50,
        description=description,
    )


LCP_BUDGET = _page_budget(
    "lcp-budget",
    RUM_LCP.name,
    VITAL_THRESHOLDS["LCP"][0],
    0.75,
    "Page views whose Largest Contentful Paint is within 2.5 s (Web Vitals good), per page template",
)
INP_BUDGET = _page_budget(
    "inp-budget",
    RUM_INP.name,
    VITAL_THRESHOLDS["INP"][0],
    0.75,
    "Page views whose Interaction to Next Paint is within 200 ms (Web Vitals good), per page template",
)
PAGE_LOAD_BUDGET = _page_budget(
    "page-load-p95-budget",
    RUM_PAGE_LOAD.name,
    3.0,
    0.95,
    "Page views loaded (loadEventEnd) within 3 s, per page template: a p95 budget",
)
PERFORMANCE_BUDGETS: tuple[SLO, ...] = (LCP_BUDGET, INP_BUDGET, PAGE_LOAD_BUDGET)
"""The RUM budgets per page template; with ``api-latency`` (p95 ≤ 1 s) the performance budgets."""

SLOS: tuple[SLO, ...] = (
    API_AVAILABILITY,
    API_LATENCY,
    PROBE_AVAILABILITY,
    JOURNEY_AVAILABILITY,
    CHECKOUT_SUCCESS,
    SUBSCRIPTION_RENEWAL_SUCCESS,
    PAYOUT_ON_TIME,
    PPV_UNLOCK_LATENCY,
    *PERFORMANCE_BUDGETS,
)
