"""Each channel speaks its service's protocol: Slack, PagerDuty Events v2, SMTP, a webhook."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
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
from ._fakes_delivery import FakeSlackApi
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
    incident_url="http://fanzwatch.test/dash/incidents/7",
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
                        "text": "<http://fanzwatch.test/dash/incidents/7|Incident #7>  ·  "
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
        "client_url": "http://fanzwatch.test/dash/incidents/7",
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
    assert "Incident: http://fanzwatch.test/dash/incidents/1" in body


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
    assert req.headers["Idempotency-Key"] == req.body["message_key"] == "fanzwatch-outbox-1"
    assert {k: req.body[k] for k in ("version", "source", "event", "incident_id", "priority", "dedup_key")} == {
        "version": "1",
        "source": "fanzwatch",
        "event": "trigger",
        "incident_id": 1,
        "priority": "P0",
        "dedup_key": "fanzwatch-incident-1",
    }
    assert len(slack.accepted) == 1


def one_user(channel: dict[str, Any], **user: Any) -> Any:
    return base_settings(
        channels=[channel],
        users=[{"name": "ana", "notify": [channel["name"]], **user}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )


def slack_api_channel(api: FakeSlackApi, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "slack",
        "name": "ops-slack",
        "bot_token": api.token,
        "channel": "C0OPS",
        "api_url": api.url,
        **extra,
    }


async def test_slack_with_a_bot_token_threads_an_incidents_follow_ups(harness: Harness) -> None:
    api = FakeSlackApi()
    try:
        svc = harness.service(one_user(slack_api_channel(api)))
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert()))
            await svc.tick()
            advance(harness.clock, minutes=2)
            await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
            await svc.tick()
            advance(harness.clock, minutes=3)
            await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
            await svc.tick()
    finally:
        api.close()
    root, ack, resolve = api.posted
    assert root["channel"] == "C0OPS" and "thread_ts" not in root
    assert root["text"] == ":rotating_light: [P0] Incident #1 triggered: PaymentFailureRate on fanz-1"
    assert (ack["thread_ts"], resolve["thread_ts"]) == (root["ts"], root["ts"])
    assert "reply_broadcast" not in ack
    assert resolve["text"] == ":white_check_mark: [P0] Incident #1 resolved: PaymentFailureRate on fanz-1"
    assert all(r.headers["Authorization"] == f"Bearer {api.token}" for r in api.requests)
    async with harness.engine.connect() as conn:
        receipts = (await conn.execute(sa.select(outbox.c.receipt).order_by(outbox.c.id))).scalars().all()
    assert receipts == [root["ts"]] * 3


@pytest.mark.parametrize(
    ("channel", "answer", "status", "error"),
    [
        ("C0OPS", None, "sent", None),
        ("C0GONE", None, "failed", "channel_not_found"),
        (
            "C0OPS",
            (429, {"ok": False, "error": "ratelimited"}),
            "pending",
            'HTTP 429: {"ok": false, "error": "ratelimited"}',
        ),
        ("C0OPS", (200, {"ok": False, "error": "internal_error"}), "pending", "internal_error"),
        ("C0OPS", (200, {"ok": False, "error": "invalid_auth"}), "failed", "invalid_auth"),
    ],
)
async def test_slack_web_api_answers_are_judged_by_their_error(
    harness: Harness, channel: str, answer: tuple[int, Any] | None, status: str, error: str | None
) -> None:
    api = FakeSlackApi()
    if answer is not None:
        api.fail(answer[0], body=answer[1], headers={"Retry-After": "3"} if answer[0] == 429 else None)
    try:
        svc = harness.service(one_user(slack_api_channel(api, channel=channel)))
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert()))
            await svc.tick()
    finally:
        api.close()
    async with harness.engine.connect() as conn:
        row = (await conn.execute(sa.select(outbox.c.status, outbox.c.last_error, outbox.c.next_attempt_at))).one()
    assert (row.status, row.last_error) == (status, error)
    if answer is not None and answer[0] == 429:
        assert row.next_attempt_at >= T0 + timedelta(seconds=3)  # Slack's Retry-After, at least


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "https://hooks.slack.test/x", "bot_token": "xoxb-1", "channel": "C1"}, "give either url"),
        ({}, "give either url"),
        ({"bot_token": "xoxb-1"}, "bot_token needs channel"),
    ],
)
def test_a_slack_channel_is_a_webhook_or_a_bot(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        base_settings(channels=[{"kind": "slack", "name": "s", **fields}])


async def test_email_follow_ups_reply_to_the_first_message(harness: Harness, smtp: SmtpSink) -> None:
    settings = one_user(
        {
            "kind": "email",
            "name": "mail",
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "sender": "alerts@fanz.test",
        },
        email="ana@fanz.test",
    )
    svc = harness.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        await svc.tick()
    first, ack = (email.message_from_string(raw, policy=default) for _, _, raw in smtp.messages)
    assert first["Message-ID"] == "<fanzwatch-outbox-1.incident-1@fanz.test>"  # the same on a retry
    assert "In-Reply-To" not in first
    assert ack["Subject"] == "[P0] Incident #1 acknowledged: PaymentFailureRate on fanz-1"
    assert (ack["In-Reply-To"], ack["References"]) == (first["Message-ID"], first["Message-ID"])
    assert ack["Message-ID"] != first["Message-ID"]


async def test_every_attempt_of_a_message_carries_the_same_idempotency_key(
    harness: Harness, receiver: FakeReceiver
) -> None:
    receiver.fail(503)
    svc = harness.service(one_user({"kind": "webhook", "name": "hook", "url": receiver.url}))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(harness.clock, seconds=5)
        await svc.tick()
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        await svc.tick()
    keys = [(r.body["event"], r.headers["Idempotency-Key"]) for r in receiver.requests]
    assert keys == [
        ("trigger", "fanzwatch-outbox-1"),
        ("trigger", "fanzwatch-outbox-1"),
        ("acknowledge", "fanzwatch-outbox-2"),
    ]
