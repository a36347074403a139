"""The outbox under faults: failing, throttling, refusing and hanging receivers, and restarts.

These run the service's real workers (``start()``) on the real clock, against real local
HTTP servers; deliveries are observed from the receivers' side.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting.tables import outbox

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack
from ._helpers import Harness, am_alert, am_payload, api_client, base_settings, eventually, post_alerts

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def real_clock(request: pytest.FixtureRequest) -> None:
    for name in ("harness", "any_store"):
        if name in request.fixturenames:
            request.getfixturevalue(name).use_real_clock()


def one_user(*channels: dict[str, Any], **overrides: Any) -> Any:
    return base_settings(
        channels=list(channels),
        users=[{"name": "ana", "notify": [c["name"] for c in channels]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
        **overrides,
    )


def hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "webhook", "name": "hook", "url": url, **extra}


def pd(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "pagerduty", "name": "pd", "url": url, "routing_key": "R0UT1NGKEY", **extra}


async def outbox_rows(h: Harness) -> list[Any]:
    async with h.engine.connect() as conn:
        return list((await conn.execute(sa.select(outbox).order_by(outbox.c.id))).all())


async def timeline_messages(h: Harness, kind: str) -> list[str]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT message FROM alerting_timeline WHERE kind = :k ORDER BY id"), {"k": kind}
        )
        return list(rows.scalars().all())


async def test_a_receiver_failing_for_a_while_gets_the_notification_exactly_once_later(
    harness: Harness, receiver: FakeReceiver
) -> None:
    h = harness
    receiver.fail(500, times=3, body={"error": "internal"})
    svc = h.service(one_user(hook(receiver.url)))
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
    await eventually("the delivery", lambda: receiver.accepted)
    await eventually("the row marked sent", lambda: _status(h, "sent"))
    assert len(receiver.requests) == 4
    assert len(receiver.accepted) == 1
    # The backoff itself (doubling, jitter, Retry-After as a minimum) is asserted under a frozen
    # clock in test_delivery_outages.py; here: the real workers retry and deliver once.
    (row,) = await outbox_rows(h)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)
    assert h.metric("fanz_alerting_notification_retries_total", platform="fanz-1", channel="hook", kind="webhook") == 3
    assert await timeline_messages(h, "notified") == ["Notified ana via hook (webhook): trigger"]


async def _status(h: Harness, status: str) -> bool:
    rows = await outbox_rows(h)
    return bool(rows) and all(r.status == status for r in rows)


async def test_pagerduty_429_is_retried_after_retry_after(harness: Harness, pagerduty: FakePagerDuty) -> None:
    h = harness
    pagerduty.fail(
        429,
        body={"status": "throttle", "message": "Requests for this service are arriving too quickly"},
        headers={"Retry-After": "1"},
    )
    svc = h.service(one_user(pd(pagerduty.url)))
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
    await eventually("the retried trigger", lambda: pagerduty.accepted, within=15)
    assert len(pagerduty.requests) == 2  # waited for Retry-After (frozen-clock test: test_delivery_outages.py)
    assert pagerduty.events() == [("trigger", "fanzwatch-incident-1")]
    await eventually("sent", lambda: _status(h, "sent"))


async def test_pagerduty_400_is_not_retried_and_is_marked_failed(harness: Harness, pagerduty: FakePagerDuty) -> None:
    h = harness
    pagerduty.fail(400, body={"status": "invalid event", "message": "Event object is invalid"})
    svc = h.service(one_user(pd(pagerduty.url)))
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
    await eventually("failed", lambda: _status(h, "failed"))
    await asyncio.sleep(0.3)  # the workers poll every 50 ms: a retry would have happened by now
    assert len(pagerduty.requests) == 1
    (row,) = await outbox_rows(h)
    assert row.attempts == 1
    assert row.last_error == 'HTTP 400: {"status": "invalid event", "message": "Event object is invalid"}'
    assert await timeline_messages(h, "notification_failed") == [
        'Notification to ana via pd (pagerduty) refused: HTTP 400: {"status": "invalid event", '
        '"message": "Event object is invalid"}'
    ]
    assert (
        h.metric(
            "fanz_alerting_notifications_failed_total",
            platform="fanz-1",
            channel="pd",
            kind="pagerduty",
            reason="rejected",
        )
        == 1
    )


async def test_a_receiver_failing_every_time_is_given_up_after_max_attempts(
    harness: Harness, receiver: FakeReceiver
) -> None:
    h = harness
    receiver.fail(503, times=100)
    svc = h.service(one_user(hook(receiver.url)))
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
    await eventually("failed", lambda: _status(h, "failed"))
    assert len(receiver.requests) == 5
    assert await timeline_messages(h, "notification_failed") == [
        "Notification to ana via hook (webhook) failed after 5 attempts: HTTP 503"
    ]
    assert (
        h.metric(
            "fanz_alerting_notifications_failed_total",
            platform="fanz-1",
            channel="hook",
            kind="webhook",
            reason="exhausted",
        )
        == 1
    )


async def test_a_hanging_slack_times_out_and_never_delays_the_other_channels(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    h = harness
    slack.hang(times=1)  # the first message is read and never answered
    timeout = 10  # generous: everything else must arrive while the hung attempt is still waiting
    settings = one_user(
        {"kind": "slack", "name": "ops-slack", "url": slack.url, "timeout_seconds": timeout},
        pd(pagerduty.url),
        hook(receiver.url),
    )
    svc = h.service(settings)
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        hung = await eventually("the first Slack message", lambda: slack.requests and slack.requests[0], within=30)
        await eventually("PagerDuty and the webhook", lambda: pagerduty.accepted and receiver.accepted, within=30)
        # A second incident meanwhile: its PagerDuty trigger is not queued behind Slack either.
        await post_alerts(c, am_payload(am_alert("HighErrorRate")))
        await eventually("the second trigger", lambda: len(pagerduty.accepted) == 2, within=30)
    await eventually("Slack, after its timeout", lambda: len(slack.accepted) == 2, within=60)
    by_incident = {r.body["text"].split("#")[1].split(" ")[0]: r for r in slack.accepted}
    # Everything else arrived before the hung attempt's timeout could have ended it ...
    others = [*pagerduty.accepted, *receiver.accepted, by_incident["2"]]  # ... Slack's own queue included
    assert [round(r.at - hung.at, 2) for r in others if r.at - hung.at >= timeout] == []
    assert by_incident["1"].at - hung.at >= timeout  # the hung attempt ran into its timeout first
    await eventually("all sent", lambda: _status(h, "sent"))
    assert (
        h.metric("fanz_alerting_notification_retries_total", platform="fanz-1", channel="ops-slack", kind="slack") == 1
    )


async def test_notifications_in_the_outbox_are_delivered_after_a_restart(
    any_store: Harness, receiver: FakeReceiver
) -> None:
    h = any_store
    receiver.hang(times=2)  # the first server's attempts are in flight when it stops
    settings = one_user(hook(receiver.url, timeout_seconds=30))
    first = h.service(settings)
    await first.start()
    async with api_client(first) as c:
        await post_alerts(c, am_payload(am_alert()))
        await post_alerts(c, am_payload(am_alert("HighErrorRate", severity="warning")))
    await eventually("both attempts in flight", lambda: len(receiver.requests) == 2, within=15)
    await first.stop()
    rows = await outbox_rows(h)
    assert [(r.status, r.claimed_by) for r in rows] == [("pending", None), ("pending", None)]
    assert receiver.accepted == []

    second = h.service(settings)
    await second.start()
    await eventually("delivered after the restart", lambda: len(receiver.accepted) == 2, within=15)
    await eventually("sent", lambda: _status(h, "sent"))
    assert sorted(r.body["incident_id"] for r in receiver.accepted) == [1, 2]


async def test_a_channel_removed_from_the_configuration_fails_its_queue_visibly(
    harness: Harness, receiver: FakeReceiver
) -> None:
    h = harness
    first = h.service(one_user(hook(receiver.url)))
    async with api_client(first) as c:
        await post_alerts(c, am_payload(am_alert()))
        await first.inbox.drain()  # queued, not delivered
    second = h.service(base_settings())
    await second.tick()
    (row,) = await outbox_rows(h)
    assert (row.status, row.last_error) == ("failed", "channel 'hook' is not configured")
    assert await timeline_messages(h, "notification_failed") == ["Channel 'hook' is no longer configured"]
