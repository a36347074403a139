"""FANZ's SLOs: the API per platform (as its requests and as outside probes see it), and the money flows.

Each is grouped by platform (one SLI, budget and alert per platform). The two money SLOs
price a bad event at the platform's average completed payment of the same kind and
currency over the last day, so their budgets read in money as well as in percent; the
checkout SLO's money lost is counted (``fanz_payment_failed_value_total``: what the failed
attempts were worth), the renewal SLO's priced.
Declines are the fan's bank saying no, not our failure: only ``failed`` payments are bad.
"""

from __future__ import annotations

from ...core.catalog.http import HTTP_SERVER_REQUEST_DURATION
from ...core.catalog.probes import JOURNEY_QUORUM_FAILING
from ..slo import SLO, SloPeriod, flag_sli, latency_sli, money_value, probe_sli, ratio_sli
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

SLOS: tuple[SLO, ...] = (
    API_AVAILABILITY,
    API_LATENCY,
    PROBE_AVAILABILITY,
    JOURNEY_AVAILABILITY,
    CHECKOUT_SUCCESS,
    SUBSCRIPTION_RENEWAL_SUCCESS,
    PAYOUT_ON_TIME,
    PPV_UNLOCK_LATENCY,
)
