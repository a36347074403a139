"""The money SLO on the real stack: a checkout outage pages by fast burn, and the money the
SLO says was lost is what the failed payments in the platform's database were worth.

The run's shared demo stack (``demo_stack``, tests/stack/conftest.py). The SLO windows are
not scaled by the demo's pacing (only alert holds are: the fast tier's 2 min is 2.4 s), so
at 100 % failed checkouts the 1 h ratio passes the fast tier's 14.4 x 0.5 % after
14.4 x 0.005 x 60 min = 4.3 minutes: the page must come within ``FAST_BURN_BOUND``.

The dollar figure is ``slo:bad_events_value:currency`` of the calendar month, read from
Prometheus before the fault and after it. The month's current hour is summed from 5-minute
steps of ``rate(fanz_payment_failed_value_total[5m])`` aligned on the clock, so the
difference of two readings covers the failures between their last 5-minute steps; the
database's failed transactions of the same platform and currency in that span must match:

- to the cent, plus ``RATE_SLACK`` (1 %: ``rate()`` extrapolates each 5-minute window by up
  to one scrape interval at each end, ``2 x 1 s / 300 s``, plus float rounding),
- plus the amounts of failures within ``EDGE_SECONDS`` of a step (scraped on either side of
  it, they belong to either window).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa

from _waiting import wait_until
from fanzwatch import schema
from fanzwatch.demo.incidents import IncidentKind
from fanzwatch.stack.plan import demo_database_url

from .conftest import DEMO_PLATFORM as PLATFORM
from .conftest import DemoStack

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(1200)]

SLO = "checkout-success"
STEP = 300
"""The 5-minute steps the month's current hour is summed from."""
FAST_BURN_BOUND = 480.0
"""4.3 minutes to pass the fast tier at 100 % failures (module docstring), plus slack for a loaded machine."""
RATE_SLACK = 0.01
EDGE_SECONDS = 2.0
MONTH_END_MARGIN = 1200.0
"""A run needs ~10 minutes from its first reading to its last: closer to a month's end, it waits."""
_BAD_VALUE = f'slo:bad_events_value:currency{{sloth_slo="{SLO}", platform="{PLATFORM}"}}'
_FAST_PAGE = (
    f'ALERTS{{alertname="SLOErrorBudgetBurnFast", sloth_slo="{SLO}", platform="{PLATFORM}", alertstate="firing"}}'
)


def _wait_out_the_month_end() -> None:
    """The figure is of the calendar month (UTC): readings on both sides of its end would
    subtract two months' sums. Near the end, wait for the new month's first step."""
    now = datetime.now(UTC)
    following = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if (following - now).total_seconds() < MONTH_END_MARGIN:
        time.sleep((following - now).total_seconds() + STEP)


def _reading(demo_stack: DemoStack, *, covering: float) -> tuple[float, dict[str, float]]:
    """The figure per currency, once Prometheus has evaluated it past the 5-minute step
    ``covering`` (a loaded Prometheus evaluates the SLO group seconds late), and the last
    step it covers."""
    evaluated = f"max(timestamp({_BAD_VALUE}))"  # when the rule last ran
    when = wait_until(
        lambda: demo_stack.value(evaluated),
        until=lambda t: t is not None and t >= covering + 1,
        # the step may be up to 5 minutes ahead (the first one after healing); then 3 minutes
        timeout=max(0.0, covering + 1 - time.time()) + 180,
        message=f"{_BAD_VALUE} evaluated after {covering:.0f}",
        interval=1.0,
    )
    figures = {r["metric"]["currency"]: float(r["value"][1]) for r in demo_stack.query(_BAD_VALUE)}
    assert figures and when is not None
    return when // STEP * STEP, figures


def _failed_in_db(demo_stack: DemoStack, start: float, end: float) -> list[tuple[float, str, Decimal]]:
    """The platform's failed transactions created in (``start``, ``end``]: (epoch, currency, amount)."""
    t = schema.transactions
    assert demo_stack.stack.demo is not None
    url = demo_database_url(demo_stack.stack.demo, demo_stack.stack.paths)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.created_at, t.c.currency, t.c.amount).where(
                    t.c.platform == PLATFORM,
                    t.c.status == "failed",
                    t.c.created_at > datetime.fromtimestamp(start - EDGE_SECONDS, UTC),
                    t.c.created_at <= datetime.fromtimestamp(end + EDGE_SECONDS, UTC),
                )
            ).all()
    finally:
        engine.dispose()
    return [(r.created_at.timestamp(), r.currency, r.amount) for r in rows]


def _paged(demo_stack: DemoStack) -> bool:
    """The fast-burn alert of the checkout SLO on the platform reached Alertmanager as a page."""
    am = f"http://127.0.0.1:{demo_stack.ports['alertmanager']}/api/v2/alerts"
    alerts = httpx.get(am, params={"filter": ['alertname="SLOErrorBudgetBurnFast"', f'sloth_slo="{SLO}"']}).json()
    return any(a["labels"].get("platform") == PLATFORM and a["labels"].get("severity") == "critical" for a in alerts)


def test_a_checkout_outage_pages_by_fast_burn_and_the_money_lost_is_the_failed_payments(
    demo_stack: DemoStack,
) -> None:
    wait_until(
        lambda: demo_stack.value(f"count({_FAST_PAGE})") is None,
        timeout=400,
        message=f"the fast burn of {SLO} on {PLATFORM} from an earlier run has resolved",
        interval=2.0,
    )
    active = demo_stack.http.get(f"{demo_stack.platform_url}/admin/payment-processor").json()
    assert active["active"] == "primary", f"the platform was failed over before the outage: {active}"
    _wait_out_the_month_end()
    start, before = _reading(demo_stack, covering=time.time() // STEP * STEP)  # the step just passed

    with demo_stack.fault(IncidentKind.PAYMENT_OUTAGE) as injected:
        wait_until(
            lambda: demo_stack.value(_FAST_PAGE) is not None,
            timeout=FAST_BURN_BOUND,
            message=f"SLOErrorBudgetBurnFast of {SLO} firing on {PLATFORM} within {FAST_BURN_BOUND:g} s",
            interval=1.0,
        )
        fired = time.monotonic() - injected
        wait_until(lambda: _paged(demo_stack), timeout=30, message="the fast burn paged through Alertmanager")
    healed = time.time()
    end, after = _reading(demo_stack, covering=-(-healed // STEP) * STEP)  # the first step after healing
    assert end > healed, (end, healed)

    failed = _failed_in_db(demo_stack, start, end)
    in_span: dict[str, Decimal] = defaultdict(Decimal)
    at_edges: dict[str, Decimal] = defaultdict(Decimal)
    steps = range(int(start), int(end) + 1, STEP)
    for at, currency, amount in failed:
        if any(abs(at - s) <= EDGE_SECONDS for s in steps):
            at_edges[currency] += amount
        elif start < at <= end:
            in_span[currency] += amount
    assert sum(in_span.values()) > 0, f"no failed payment on {PLATFORM} in the database between the readings"
    for currency in sorted(set(in_span) | set(after)):
        lost = after.get(currency, 0.0) - before.get(currency, 0.0)
        db = float(in_span[currency])
        slack = 0.01 + RATE_SLACK * db + float(at_edges[currency])
        print(
            f"\n{currency}: the SLO counted {lost:.2f} lost, the database has {db:.2f} failed "
            f"(+{float(at_edges[currency]):.2f} at step edges); fast burn paged after {fired:.0f} s"
        )
        assert abs(lost - db) <= slack, (currency, lost, db, slack)
