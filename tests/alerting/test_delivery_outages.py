"""Delivery that outlives outages: retried for as long as it matters, then paged another way.

With default delivery settings a receiver down for ten minutes still gets the page, once;
``Retry-After`` lengthens a delay but never shortens one; a message that finally fails is
on the timeline and pages through a fallback channel or the next escalation step.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting.notify.retry import RetryPolicy
from fanzwatch.alerting.tables import outbox
from fanzwatch.settings.alerting import AlertingSettings, DeliverySettings

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack
from ._fakes_delivery import OutageReceiver
from ._helpers import T0, Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts

pytestmark = pytest.mark.timeout(300)


def hook(url: str) -> dict[str, Any]:
    return {"kind": "webhook", "name": "hook", "url": url, "timeout_seconds": 2}


def slack_channel(url: str) -> dict[str, Any]:
    return {"kind": "slack", "name": "ops-slack", "url": url, "timeout_seconds": 2}


def pd(url: str) -> dict[str, Any]:
    return {"kind": "pagerduty", "name": "pd", "url": url, "routing_key": "R0UT1NGKEY", "timeout_seconds": 2}


async def outbox_rows(h: Harness) -> list[Any]:
    async with h.engine.connect() as conn:
        return list((await conn.execute(sa.select(outbox).order_by(outbox.c.id))).all())


async def timeline(h: Harness, *kinds: str) -> list[str]:
    async with h.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT kind, message FROM alerting_timeline WHERE incident_id = 1 ORDER BY id")
        )
        return [m for k, m in result if k in kinds]


async def test_a_receiver_down_for_ten_minutes_gets_the_page_once_afterwards_with_default_settings(
    any_store: Harness,
) -> None:
    h = any_store
    receiver = OutageReceiver()
    receiver.down.set()
    try:
        settings = base_settings(
            channels=[hook(receiver.url)],
            users=[{"name": "ana", "notify": ["hook"]}],
            schedules=[{"name": "primary", "users": ["ana"]}],
            delivery={},  # the defaults
        )
        assert settings.delivery == DeliverySettings()
        svc = h.service(settings)
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert()))
            while h.clock.now() < T0 + timedelta(minutes=25):
                if h.clock.now() >= T0 + timedelta(minutes=10):
                    receiver.down.clear()
                await svc.tick()
                advance(h.clock, seconds=20)
    finally:
        receiver.close()
    assert len(receiver.accepted) == 1
    assert len(receiver.requests) >= 8  # the old limit gave up after 8 attempts (~4 min) and never sent it
    (row,) = await outbox_rows(h)
    assert row.status == "sent"
    # Backoff is capped at 5 minutes: the page goes out within that of the receiver's return.
    assert T0 + timedelta(minutes=10) <= row.sent_at <= T0 + timedelta(minutes=15, seconds=20)
    assert await timeline(h, "notified") == ["Notified ana via hook (webhook): trigger"]


async def test_retry_after_is_a_minimum_never_a_replacement(harness: Harness, receiver: FakeReceiver) -> None:
    h = harness
    receiver.fail(429, times=2, headers={"Retry-After": "1"})
    settings = base_settings(
        channels=[hook(receiver.url)],
        users=[{"name": "ana", "notify": ["hook"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
        delivery={"backoff_base": "10s", "jitter": 0},
    )
    svc = h.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        (row,) = await outbox_rows(h)
        assert row.next_attempt_at == T0 + timedelta(seconds=10)  # not T0 + 1 s
        advance(h.clock, seconds=2)
        await svc.tick()
        assert len(receiver.requests) == 1  # Retry-After passed, the backoff did not


def test_backoff_is_jittered_and_retry_after_only_lengthens_it() -> None:
    policy = RetryPolicy(DeliverySettings(backoff_base=timedelta(seconds=2), jitter=0.2), rng=random.Random(7))
    delays = [policy.delay(4, retry_after=None) for _ in range(50)]  # 16 s before jitter
    assert all(timedelta(seconds=12.8) <= d <= timedelta(seconds=16) for d in delays)
    assert len(set(delays)) > 40  # spread, not lockstep
    assert all(policy.delay(4, retry_after=1.0) >= timedelta(seconds=12.8) for _ in range(20))
    assert policy.delay(4, retry_after=90.0) == timedelta(seconds=90)
    assert policy.delay(4, retry_after=86_400.0) == timedelta(hours=1)  # a bad header cannot park a page for a day
    assert policy.delay(30, retry_after=None) <= timedelta(minutes=5)


def test_retrying_ends_at_max_age_with_a_last_attempt_at_that_age() -> None:
    policy = RetryPolicy(DeliverySettings(max_age=timedelta(minutes=10), jitter=0))
    assert policy.next_attempt(9, created_at=T0, now=T0 + timedelta(minutes=8), retry_after=None) == T0 + timedelta(
        minutes=10
    )
    assert policy.next_attempt(10, created_at=T0, now=T0 + timedelta(minutes=10), retry_after=None) is None
    capped = RetryPolicy(DeliverySettings(max_attempts=3))
    assert capped.next_attempt(3, created_at=T0, now=T0, retry_after=None) is None


def two_people(channels: list[dict[str, Any]], **overrides: Any) -> AlertingSettings:
    """Ana is primary (by the first channel), Ben secondary on Slack."""
    return base_settings(
        channels=channels,
        users=[{"name": "ana", "notify": [channels[0]["name"]]}, {"name": "ben", "notify": ["ops-slack"]}],
        schedules=[{"name": "primary", "users": ["ana"]}, {"name": "secondary", "users": ["ben"]}],
        **overrides,
    )


def slack_for(s: FakeSlack) -> list[str]:
    return [r.body["blocks"][1]["text"]["text"].rsplit("(for ", 1)[1].rstrip(")") for r in s.accepted]


async def test_a_page_that_finally_fails_brings_the_next_escalation_step_forward(
    harness: Harness, receiver: FakeReceiver, slack: FakeSlack
) -> None:
    h = harness
    receiver.fail(503, times=1000)
    settings = two_people([hook(receiver.url), slack_channel(slack.url)], delivery={"max_age": "2m"})
    svc = h.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("HighLatency", severity="warning")))  # P1: an hour per step
        for _ in range(30):
            await svc.tick()
            advance(h.clock, seconds=10)
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert h.clock.now() < T0 + timedelta(minutes=6)
    assert slack_for(slack) == ["ben"]  # paged after ~2 minutes, not after the hour
    (failed,) = await timeline(h, "notification_failed")
    assert failed.startswith("Notification to ana via hook (webhook) failed after ")
    assert failed.endswith(": HTTP 503")
    (paged,) = await timeline(h, "paged")
    assert paged.startswith("Escalating now: ana could not be notified (hook failed after ")
    assert inc["escalation_step"] == 1
    assert [r.status for r in await outbox_rows(h)] == ["failed", "sent"]


async def test_a_refused_page_goes_to_the_fallback_channel(
    harness: Harness, pagerduty: FakePagerDuty, slack: FakeSlack
) -> None:
    h = harness
    pagerduty.fail(400, body={"status": "invalid event", "message": "Event object is invalid"})
    settings = two_people([pd(pagerduty.url), slack_channel(slack.url)], delivery={"fallback_channels": ["ops-slack"]})
    svc = h.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert slack_for(slack) == ["ana"]
    reason = slack.accepted[0].body["blocks"][1]["text"]["text"]
    assert "delivery via pd failed (pd refused: HTTP 400" in reason
    assert (await timeline(h, "paged"))[0].startswith("Paging ana via fallback ops-slack: pd refused: HTTP 400")
    assert inc["escalation_step"] == 0 and inc["next_escalation_at"] == "2026-03-02T10:15:00Z"  # not moved


async def test_a_failure_on_one_channel_pages_nobody_else_when_another_reaches_the_person(
    harness: Harness, pagerduty: FakePagerDuty, slack: FakeSlack
) -> None:
    h = harness
    pagerduty.fail(400)
    settings = base_settings(
        channels=[pd(pagerduty.url), slack_channel(slack.url)],
        users=[{"name": "ana", "notify": ["pd", "ops-slack"]}, {"name": "ben", "notify": ["ops-slack"]}],
        schedules=[{"name": "primary", "users": ["ana"]}, {"name": "secondary", "users": ["ben"]}],
    )
    svc = h.service(settings)
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert slack_for(slack) == ["ana"]
    assert inc["next_escalation_at"] == "2026-03-02T10:15:00Z"
    assert (await timeline(h, "notification_failed"))[-1] == (
        "ana is notified via ops-slack too; nobody else paged for this failure"
    )


def test_fallback_channels_must_be_configured() -> None:
    with pytest.raises(ValueError, match=r"delivery\.fallback_channels: unknown channel 'sms'"):
        base_settings(delivery={"fallback_channels": ["sms"]})
