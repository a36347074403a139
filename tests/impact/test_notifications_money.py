"""Notifications carry the incident's money: Slack, e-mail, PagerDuty custom details, webhooks."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from prometheus_client import CollectorRegistry

from alerting._fakes import FakePagerDuty, FakeSlack
from alerting._helpers import Harness, am_alert, am_payload, api_client, on_call_settings, post_alerts
from alerting.test_notifications import NOTE
from fanzwatch.alerting.notify.email import email_message
from fanzwatch.alerting.notify.pagerduty import pagerduty_event
from fanzwatch.alerting.notify.slack import slack_message
from fanzwatch.anomaly.forecast import forecast
from fanzwatch.core.impact import money_sentence
from fanzwatch.impact import ImpactTracker, IncidentPricer, RevenueEstimator
from fanzwatch.settings.impact import ImpactSettings

from .test_tracker import prometheus

MONEY = "Revenue at risk so far: 1,234.50 USD (90% interval 1,000.00 to 1,500.00)"
IMPACT = {
    "reporting_currency": "USD",
    "level": 0.9,
    "revenue": {"at_risk": 1234.5, "at_risk_lower": 1000, "at_risk_upper": 1500},
}


def test_the_money_sentence() -> None:
    assert money_sentence(IMPACT) == MONEY
    final = {
        **IMPACT,
        "lost": {"lost": 900.0, "lost_lower": 700.0, "lost_upper": 1100.0},
        "payments": {"failed": 12, "failed_value_reporting": 60.0},
        "people": {"creators": 3, "fans": 9},
    }
    assert money_sentence(final) == (
        "Revenue lost: 900.00 USD (90% interval 700.00 to 1,100.00); 12 failed payments worth 60.00 USD; "
        "3 creators and 9 fans with failed payments"
    )
    assert money_sentence(None) is None
    assert money_sentence({"revenue": {"at_risk": "lots"}}) is None  # malformed: left out, never raises


def test_every_channel_says_the_money() -> None:
    n = replace(NOTE, money=MONEY)
    slack = slack_message(n)["blocks"]
    assert {"type": "section", "text": {"type": "mrkdwn", "text": f":moneybag: {MONEY}"}} in slack
    assert pagerduty_event(n, "RKEY")["payload"]["custom_details"]["money"] == MONEY
    assert f"Money:    {MONEY}\n" in email_message(n, sender="fanzwatch@fanz.test").get_content()
    # Before it is priced nothing is said.
    assert len(slack_message(NOTE)["blocks"]) == len(slack) - 1
    assert "money" not in pagerduty_event(NOTE, "RKEY")["payload"]["custom_details"]


async def test_notifications_after_pricing_carry_the_money(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    h = harness
    svc = h.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("HighErrorRate", severity="warning")))
    await svc.tick()
    settings = ImpactSettings(history_days=14, exchange_rates={"EUR": Decimal("1.10")})
    prom = prometheus(revenue_drop=0.9)
    tracker = ImpactTracker(
        settings,
        IncidentPricer(settings, prom, RevenueEstimator(prom, forecast, settings)),
        svc.impact_ledger,
        CollectorRegistry(),
        h.clock,
        payment_success_objective=0.995,
    )
    h.clock.advance(timedelta(minutes=10))
    await tracker.tick()
    stored = (await svc.queries.get(1) or {})["impact"]
    await svc.operations.acknowledge(1, by="ana", now=h.clock.now())
    await svc.tick()
    first, last = slack.accepted[0].body, slack.accepted[-1].body
    assert "acknowledged" in last["text"]
    assert {"type": "section", "text": {"type": "mrkdwn", "text": f":moneybag: {money_sentence(stored)}"}} in (
        last["blocks"]
    )
    assert money_sentence(stored).startswith("Revenue at risk so far: ")  # type: ignore[union-attr]
    assert not any(":moneybag:" in str(b) for b in first["blocks"])  # queued before it was priced
