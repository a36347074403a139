"""Notifications in order per incident and channel; superseded when they no longer apply; no spin.

A trigger waiting for its retry must never reach a receiver after the resolve (PagerDuty
would open a new incident for a resolved one); a resolve waits for the trigger in flight;
queued triggers and pages are superseded (and say so on the timeline) once the incident is
acknowledged or resolved; an idle outbox worker asks the store a bounded number of times.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting import IncidentRecord, NotificationEvent
from fanzwatch.alerting.incidents.records import load_incident
from fanzwatch.alerting.tables import outbox

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack
from ._fakes_delivery import SlowReceiver
from ._helpers import Harness, advance, am_alert, am_payload, api_client, base_settings, eventually, post_alerts

pytestmark = pytest.mark.timeout(60)


def settings_for(*channels: dict[str, Any], **overrides: Any) -> Any:
    return base_settings(
        channels=list(channels),
        users=[{"name": "ana", "notify": [c["name"] for c in channels]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
        **overrides,
    )


def pd(url: str) -> dict[str, Any]:
    return {"kind": "pagerduty", "name": "pd", "url": url, "routing_key": "R0UT1NGKEY", "timeout_seconds": 3}


def hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "webhook", "name": "hook", "url": url, **extra}


async def rows(h: Harness) -> list[tuple[str, str, str]]:
    """(channel, event, status) of every outbox row, in queue order."""
    async with h.engine.connect() as conn:
        result = await conn.execute(sa.select(outbox.c.channel, outbox.c.event, outbox.c.status).order_by(outbox.c.id))
        return [(r.channel, r.event, r.status) for r in result]


async def timeline(h: Harness, kind: str) -> list[str]:
    async with h.engine.connect() as conn:
        result = await conn.execute(
            sa.text("SELECT message FROM alerting_timeline WHERE kind = :k ORDER BY id"), {"k": kind}
        )
        return list(result.scalars())


async def test_a_trigger_waiting_for_its_retry_never_goes_out_after_the_resolve(
    any_store: Harness, pagerduty: FakePagerDuty
) -> None:
    h = any_store
    pagerduty.fail(500, body={"status": "error"})
    svc = h.service(settings_for(pd(pagerduty.url)))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()  # the trigger fails once and waits for its retry
        advance(h.clock, seconds=0.01)
        await post_alerts(c, am_payload(am_alert(status="resolved", ends_at=h.clock.now())))
        await svc.tick()
        for _ in range(5):
            advance(h.clock, seconds=5)
            await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert inc["status"] == "resolved"
    assert len(pagerduty.requests) == 1  # only the failed first attempt
    assert pagerduty.events() == []  # no resolve for a trigger PagerDuty never saw, no trigger after it
    assert await rows(h) == [("pd", "trigger", "superseded")]  # and no resolve queued to follow nothing
    assert await timeline(h, "notification_superseded") == [
        "Not sending trigger to ana via pd (pagerduty): superseded, the incident was resolved"
    ]


async def test_an_acknowledgement_supersedes_the_queued_trigger_and_follows_only_what_was_sent(
    harness: Harness, pagerduty: FakePagerDuty, slack: FakeSlack
) -> None:
    h = harness
    pagerduty.fail(503, times=2)
    svc = h.service(settings_for(pd(pagerduty.url), {"kind": "slack", "name": "ops-slack", "url": slack.url}))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()  # Slack delivered; PagerDuty failed and waits
        advance(h.clock, minutes=1)
        assert (await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})).status_code == 200
        for _ in range(3):
            advance(h.clock, minutes=1)
            await svc.tick()
    assert pagerduty.events() == []
    assert [r.body["text"].split(" ", 1)[1] for r in slack.accepted] == [
        "[P0] Incident #1 triggered: PaymentFailureRate on fanz-1",
        "[P0] Incident #1 acknowledged: PaymentFailureRate on fanz-1",
    ]
    assert sorted(await rows(h)) == [
        ("ops-slack", "acknowledge", "sent"),
        ("ops-slack", "trigger", "sent"),
        ("pd", "trigger", "superseded"),
    ]


async def test_a_resolve_waits_for_the_trigger_in_flight(any_store: Harness) -> None:
    h = any_store
    h.use_real_clock()
    receiver = SlowReceiver(delay=1.5)
    try:
        svc = h.service(settings_for(hook(receiver.url, timeout_seconds=10)))
        await svc.start()
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert()))
            await eventually("the trigger in flight", lambda: receiver.requests)
            await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
            await eventually("both delivered", lambda: len(receiver.answered) == 2)
            await eventually("both recorded", lambda: _all_settled(h))
    finally:
        receiver.close()
    assert receiver.events() == ["trigger", "resolve"]
    assert receiver.requests[1].at >= dict(receiver.answered)["trigger"]  # asked once the trigger was answered
    assert await rows(h) == [("hook", "trigger", "sent"), ("hook", "resolve", "sent")]


async def test_a_message_is_not_claimable_behind_an_earlier_one_another_replica_holds(
    any_store: Harness, receiver: FakeReceiver
) -> None:
    h = any_store
    receiver.hang(times=1)
    h.use_real_clock()
    settings = settings_for(hook(receiver.url, timeout_seconds=3))
    first, second = h.service(settings), h.service(settings)
    await first.start()
    async with api_client(first) as c1, api_client(second) as c:
        await post_alerts(c1, am_payload(am_alert()))
        await eventually("the trigger in flight on the first replica", lambda: receiver.requests)
        await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        await second.dispatcher.dispatch_all_due()  # the second replica may not send the resolve now
        assert [r.body["event"] for r in receiver.requests] == ["trigger"]
        # The hung attempt times out; the trigger is then superseded and the resolve has nothing to follow.
        await eventually("settled", lambda: _all_settled(h), within=20)
    assert [r.body["event"] for r in receiver.requests] == ["trigger"]
    assert await rows(h) == [("hook", "trigger", "superseded"), ("hook", "resolve", "superseded")]
    assert await timeline(h, "notification_superseded") == [
        "Not sending trigger to ana via hook (webhook): superseded, the incident was resolved",
        "Not sending resolve to ana via hook (webhook): nothing about this incident was delivered there",
    ]


async def _all_settled(h: Harness) -> bool:
    return all(status != "pending" for _, _, status in await rows(h))


class StatementCounter:
    def __init__(self, h: Harness) -> None:
        self.count = 0
        self._engine = h.engine.sync_engine
        sa.event.listen(self._engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1

    def close(self) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_an_idle_outbox_does_not_spin_while_deliveries_are_in_flight_or_leased_elsewhere(
    any_store: Harness, receiver: FakeReceiver
) -> None:
    """Poll interval 1 s (the default): while one replica's delivery hangs and a second replica
    sees it leased, the two workers together make a handful of statements a second, not hundreds."""
    h = any_store
    h.use_real_clock()
    receiver.hang(times=1)
    settings = settings_for(
        hook(receiver.url, timeout_seconds=30), delivery={"poll_interval": "1s", "backoff_base": "50ms"}
    )
    first, second = h.service(settings), h.service(settings)
    await first.start()
    async with api_client(first) as c:
        await post_alerts(c, am_payload(am_alert()))
        await eventually("the delivery in flight", lambda: receiver.requests)
        await second.start()
        await asyncio.sleep(0.5)  # both workers past their start-up queries
        counter = StatementCounter(h)
        try:
            await asyncio.sleep(3.0)
        finally:
            counter.close()
    # Each worker: one claim and one "when is the next due" query per poll second, at most.
    assert counter.count <= 2 * 2 * 4, counter.count


async def test_flap_damping_second_line_a_reopen_takes_back_an_unsent_resolve_or_waits_out_the_hold_down(
    harness: Harness, receiver: FakeReceiver
) -> None:
    """Behind the incident hold-down, the outbox keeps each channel to one trigger per hold-down:
    a reopen whose resolve has not gone out supersedes it (the channel never heard it was over),
    and a reopen soon after a trigger waits until the hold-down since that trigger has passed."""
    h = harness
    svc = h.service(settings_for(hook(receiver.url), hold_down="2m"))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()  # the trigger, at 10:00:00
    incident = await _incident(h)

    async def tell(event: NotificationEvent, generation: int) -> None:
        async with h.engine.begin() as conn:
            at = replace(incident, reopen_count=generation)
            await svc.escalator.notify_involved(conn, at, event, h.clock.now(), reason="flap")

    advance(h.clock, seconds=5)
    await tell(NotificationEvent.RESOLVE, 0)
    advance(h.clock, seconds=5)
    await tell(NotificationEvent.REOPEN, 1)  # the resolve had not gone out: taken back, no reopen
    await svc.tick()
    assert [r.body["event"] for r in receiver.accepted] == ["trigger"]

    advance(h.clock, seconds=10)
    await tell(NotificationEvent.RESOLVE, 1)
    await svc.tick()  # this resolve goes out
    advance(h.clock, seconds=10)
    await tell(NotificationEvent.REOPEN, 2)  # 30 s after the trigger: held until 10:02:00
    await svc.tick()
    assert [r.body["event"] for r in receiver.accepted] == ["trigger", "resolve"]
    advance(h.clock, seconds=89)
    await svc.tick()
    assert len(receiver.accepted) == 2
    advance(h.clock, seconds=1)  # 10:02:00
    await svc.tick()
    assert [r.body["event"] for r in receiver.accepted] == ["trigger", "resolve", "reopen"]
    assert await rows(h) == [
        ("hook", "trigger", "sent"),
        ("hook", "resolve", "superseded"),
        ("hook", "resolve", "sent"),
        ("hook", "reopen", "sent"),
    ]
    assert await timeline(h, "notification_superseded") == [
        "Not sending resolve to ana via hook (webhook): superseded, the incident reopened"
    ]
    assert "Reopen held for hook until 10:02:00 UTC: one trigger per channel per 2 min" in await timeline(
        h, "notifying"
    )


async def _incident(h: Harness) -> IncidentRecord:
    async with h.engine.connect() as conn:
        incident = await load_incident(conn, 1)
    assert incident is not None
    return incident


async def test_a_follow_up_is_not_sent_to_a_channel_that_last_heard_resolved(
    harness: Harness, pagerduty: FakePagerDuty
) -> None:
    """Trigger and resolve reached PagerDuty; the reopen is still failing when the incident is
    acknowledged: the reopen is superseded, and PagerDuty, whose incident is resolved, is not
    sent an acknowledge for it."""
    h = harness
    svc = h.service(settings_for(pd(pagerduty.url), hold_down="0s"))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(h.clock, minutes=1)
        await post_alerts(c, am_payload(am_alert(status="resolved", ends_at=h.clock.now())))
        await svc.tick()
        assert pagerduty.events() == [("trigger", "fanzwatch-incident-1"), ("resolve", "fanzwatch-incident-1")]
        advance(h.clock, minutes=1)
        pagerduty.fail(503)
        await post_alerts(c, am_payload(am_alert(starts_at=h.clock.now())))  # fires again: reopened
        await svc.tick()  # the reopen fails once
        assert (await c.get("/api/v1/incidents/1")).json()["status"] == "triggered"
        assert (await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})).status_code == 200
        for _ in range(3):
            advance(h.clock, seconds=30)
            await svc.tick()
    assert pagerduty.events() == [("trigger", "fanzwatch-incident-1"), ("resolve", "fanzwatch-incident-1")]
    assert await rows(h) == [
        ("pd", "trigger", "sent"),
        ("pd", "resolve", "sent"),
        ("pd", "reopen", "superseded"),
        ("pd", "acknowledge", "superseded"),
    ]
    assert (await timeline(h, "notification_superseded"))[-1] == (
        "Not sending acknowledge to ana via pd (pagerduty): the last thing delivered there was the resolution"
    )
