"""Each channel speaks its service's protocol: Slack, PagerDuty Events v2, SMTP, a webhook."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting import Notification, NotificationEvent
from fanzwatch.alerting.notify.base import Outcome, judge_response, retry_after_seconds
from fanzwatch.alerting.notify.pagerduty import pagerduty_event
from fanzwatch.alerting.notify.slack import slack_message
from fanzwatch.alerting.tables import outbox

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack, SmtpSink
from ._helpers import T0, Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts

NOTE = Notification(
    event=NotificationEvent.TRIGGER,
    incident_id=7,
    title="PaymentFailureRate on fanz-1",
    summary="Payments failing on fanz-1",
    priority="P0",
    status="triggered",
    platform="fanz-1",
    service="payments",
    reason="escalation step 1 (primary): incident opened",
    recipient="ana",
    address="ana@fanz.test",
    step="primary",
    runbook_url="https://runbooks/PaymentFailureRate.md",
    incident_url="http://fanzwatch.test/api/v1/incidents/7",
    at=T0,
    labels={"alertname": "PaymentFailureRate", "platform": "fanz-1"},
)


def test_slack_message_is_an_incoming_webhook_body() -> None:
    assert slack_message(NOTE) == {
        "text": ":rotating_light: [P0] Incident #7 triggered: PaymentFailureRate on fanz-1",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*:rotating_light: [P0] Incident #7 triggered: PaymentFailureRate on fanz-1*\n"
                    "Payments failing on fanz-1",
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Priority* P0   *Platform* fanz-1   *Service* payments\n"
                    "_escalation step 1 (primary): incident opened_ (for ana)",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "<http://fanzwatch.test/api/v1/incidents/7|Incident #7>  ·  "
                        "<https://runbooks/PaymentFailureRate.md|Runbook>",
                    }
                ],
            },
        ],
    }


def test_pagerduty_events_v2_bodies() -> None:
    trigger = pagerduty_event(NOTE, "RKEY")
    assert trigger == {
        "routing_key": "RKEY",
        "event_action": "trigger",
        "dedup_key": "fanzwatch-incident-7",
        "payload": {
            "summary": "[P0] Incident #7 triggered: PaymentFailureRate on fanz-1",
            "source": "fanz-1",
            "severity": "critical",
            "timestamp": "2026-03-02T10:00:00+00:00",
            "component": "payments",
            "group": "fanz-1",
            "class": "PaymentFailureRate",
            "custom_details": {
                "summary": "Payments failing on fanz-1",
                "reason": "escalation step 1 (primary): incident opened",
                "labels": {"alertname": "PaymentFailureRate", "platform": "fanz-1"},
            },
        },
        "client": "fanzwatch",
        "client_url": "http://fanzwatch.test/api/v1/incidents/7",
        "links": [{"href": "https://runbooks/PaymentFailureRate.md", "text": "Runbook"}],
    }
    for event, action in ((NotificationEvent.ACKNOWLEDGE, "acknowledge"), (NotificationEvent.RESOLVE, "resolve")):
        n = Notification(**{**NOTE.to_json(), "event": event, "at": T0})
        assert pagerduty_event(n, "RKEY") == {
            "routing_key": "RKEY",
            "event_action": action,
            "dedup_key": "fanzwatch-incident-7",
        }


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("Mon, 02 Mar 2026 10:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 09:00:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_as_seconds_or_http_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, datetime(2026, 3, 2, 10, tzinfo=UTC)) == seconds


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),
        (400, Outcome.REJECTED),
        (403, Outcome.REJECTED),
        (404, Outcome.REJECTED),
        (410, Outcome.REJECTED),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
    ],
)
def test_http_answers_are_judged_by_status(status: int, outcome: Outcome) -> None:
    import httpx

    assert judge_response(httpx.Response(status, text="x"), T0).outcome is outcome


def channels(**urls: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if "slack" in urls:
        out.append({"kind": "slack", "name": "ops-slack", "url": urls["slack"]})
    if "pd" in urls:
        out.append({"kind": "pagerduty", "name": "pd", "url": urls["pd"], "routing_key": "R0UT1NGKEY"})
    if "hook" in urls:
        out.append({"kind": "webhook", "name": "hook", "url": urls["hook"], "bearer_token": "hook-token"})
    return out


async def test_an_incident_lifecycle_reaches_pagerduty_with_one_dedup_key(
    harness: Harness, pagerduty: FakePagerDuty
) -> None:
    settings = base_settings(
        channels=channels(pd=pagerduty.url),
        users=[{"name": "ana", "notify": ["pd"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )
    svc = harness.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert(service="payments")))
        await svc.tick()
        advance(harness.clock, minutes=2)
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        await svc.tick()
        advance(harness.clock, minutes=3)
        resolved = am_alert(service="payments", status="resolved", ends_at=harness.clock.now())
        await post_alerts(c, am_payload(resolved))
        await svc.tick()
    assert pagerduty.events() == [
        ("trigger", "fanzwatch-incident-1"),
        ("acknowledge", "fanzwatch-incident-1"),
        ("resolve", "fanzwatch-incident-1"),
    ]
    assert all(r.body["routing_key"] == "R0UT1NGKEY" for r in pagerduty.accepted)
    assert pagerduty.accepted[0].body["payload"]["component"] == "payments"
    assert (
        harness.metric("fanz_alerting_notifications_sent_total", platform="fanz-1", channel="pd", kind="pagerduty") == 3
    )


async def test_email_through_a_real_smtp_server(harness: Harness, smtp: SmtpSink) -> None:
    settings = base_settings(
        channels=[
            {
                "kind": "email",
                "name": "mail",
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "none",
                "sender": "alerts@fanz.test",
            }
        ],
        users=[{"name": "ana", "email": "ana@fanz.test", "notify": ["mail"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )
    svc = harness.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
    assert len(smtp.messages) == 1
    sender, rcpts, raw = smtp.messages[0]
    msg = email.message_from_string(raw, policy=default)
    assert (sender, rcpts) == ("alerts@fanz.test", ["ana@fanz.test"])
    assert msg["Subject"] == "[P0] Incident #1 triggered: PaymentFailureRate on fanz-1"
    assert msg["X-Fanzwatch-Incident"] == "1"
    body = msg.get_content()
    assert "Why you:  escalation step 1 (primary): incident opened" in body
    assert "Incident: http://fanzwatch.test/api/v1/incidents/1" in body


@pytest.mark.parametrize(
    ("reply", "status", "attempts"),
    [("451 4.3.0 Mailbox busy, try later", "pending", 1), ("554 5.7.1 Rejected by policy", "failed", 1)],
)
async def test_smtp_4xx_is_retried_and_5xx_is_final(
    harness: Harness, smtp: SmtpSink, reply: str, status: str, attempts: int
) -> None:
    settings = base_settings(
        channels=[{"kind": "email", "name": "mail", "host": "127.0.0.1", "port": smtp.port, "security": "none"}],
        users=[{"name": "ana", "email": "ana@fanz.test", "notify": ["mail"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )
    svc = harness.service(settings)
    smtp.reply = reply
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
    async with harness.engine.connect() as conn:
        row = (await conn.execute(sa.select(outbox.c.status, outbox.c.attempts, outbox.c.last_error))).one()
    assert (row.status, row.attempts) == (status, attempts)
    assert row.last_error == f"SMTP {reply[:3]}: {reply[4:]}"
    assert smtp.messages == []


async def test_generic_webhook_carries_the_incident_and_a_bearer_token(
    harness: Harness, receiver: FakeReceiver, slack: FakeSlack
) -> None:
    settings = base_settings(
        channels=channels(hook=receiver.url, slack=slack.url),
        users=[{"name": "ana", "notify": ["hook", "ops-slack"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )
    svc = harness.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
    (req,) = receiver.accepted
    assert req.headers["Authorization"] == "Bearer hook-token"
    assert {k: req.body[k] for k in ("version", "source", "event", "incident_id", "priority", "dedup_key")} == {
        "version": "1",
        "source": "fanzwatch",
        "event": "trigger",
        "incident_id": 1,
        "priority": "P0",
        "dedup_key": "fanzwatch-incident-1",
    }
    assert len(slack.accepted) == 1
