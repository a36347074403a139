"""Flap damping: an incident whose alerts resolved waits ``hold_down`` before it resolves.

Before, an alert flapping 100 times in 25 s gave one incident but 201 Slack messages,
101 PagerDuty triggers and 201 webhook calls (a resolve and a reopen per flap).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from fanzwatch.alerting import AlertingService
from fanzwatch.alerting.tables import outbox
from fanzwatch.settings.alerting import AlertingSettings

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack
from ._helpers import T0, Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts

HOLD = "2m"


def settings(slack: FakeSlack, pagerduty: FakePagerDuty, receiver: FakeReceiver, **overrides: Any) -> AlertingSettings:
    """Ana is on call and hears about everything on Slack, PagerDuty and a webhook."""
    values: dict[str, Any] = {
        "hold_down": HOLD,
        "channels": [
            {"kind": "slack", "name": "ops-slack", "url": slack.url, "timeout_seconds": 2},
            {"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"},
            {"kind": "webhook", "name": "hook", "url": receiver.url, "timeout_seconds": 2},
        ],
        "users": [{"name": "ana", "notify": ["pd", "ops-slack", "hook"]}, {"name": "ben", "notify": ["ops-slack"]}],
        "schedules": [{"name": "primary", "users": ["ana"]}, {"name": "secondary", "users": ["ben"]}],
        **overrides,
    }
    return base_settings(**values)


@pytest.fixture
def fakes(slack: FakeSlack, pagerduty: FakePagerDuty, receiver: FakeReceiver) -> tuple[Any, Any, Any]:
    return slack, pagerduty, receiver


async def send(svc: AlertingService, c: httpx.AsyncClient, alert: dict[str, Any]) -> None:
    assert (await post_alerts(c, am_payload(alert))).status_code == 202
    await svc.tick()


def firing(starts_at: datetime, **kw: Any) -> dict[str, Any]:
    return am_alert(starts_at=starts_at, **kw)


def resolved(starts_at: datetime, ends_at: datetime, **kw: Any) -> dict[str, Any]:
    return am_alert(status="resolved", starts_at=starts_at, ends_at=ends_at, **kw)


async def incident(c: httpx.AsyncClient, incident_id: int = 1) -> dict[str, Any]:
    r = await c.get(f"/api/v1/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def kinds(inc: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in inc["timeline"]]


def messages(slack: FakeSlack, pagerduty: FakePagerDuty, receiver: FakeReceiver) -> dict[str, Any]:
    return {
        "slack": len(slack.accepted),
        "pagerduty": [action for action, _ in pagerduty.events()],
        "webhook": [r.body["event"] for r in receiver.accepted],
    }


def test_the_default_hold_down_is_two_minutes() -> None:
    """Above Alertmanager's default group_interval as rendered (1 min), so a hand-over is never a resolve."""
    assert AlertingSettings().hold_down == timedelta(minutes=2)


async def test_100_flaps_in_a_minute_are_one_incident_and_at_most_two_messages_per_channel(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    svc = harness.service(settings(*fakes))
    start = T0
    async with api_client(svc) as c:
        await send(svc, c, firing(start))
        for _ in range(100):  # resolved 0.3 s, firing 0.3 s: 100 flaps in 60 s
            ended = advance(harness.clock, seconds=0.3)
            await send(svc, c, resolved(start, ended))
            start = advance(harness.clock, seconds=0.3)
            await send(svc, c, firing(start))
        during = await incident(c)
        await send(svc, c, resolved(start, advance(harness.clock, seconds=1)))
        advance(harness.clock, minutes=2)
        await svc.tick()  # the hold-down ended: resolved, and now it is said
        after = await incident(c)
        listing = (await c.get("/api/v1/incidents")).json()
    assert listing["total"] == 1
    assert (during["status"], during["reopen_count"], during["alerts"][0]["fired_count"]) == ("triggered", 0, 101)
    assert kinds(during).count("still_open") == 100 and "reopened" not in kinds(during)
    assert (after["status"], after["resolved_by"]) == ("resolved", "alertmanager")
    assert after["resolved_at"] == "2026-03-02T10:03:01Z"  # the last resolve (10:01:01) + the hold-down
    assert messages(*fakes) == {"slack": 2, "pagerduty": ["trigger", "resolve"], "webhook": ["trigger", "resolve"]}


async def test_a_resolve_is_told_only_after_the_hold_down(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    svc = harness.service(settings(*fakes))
    async with api_client(svc) as c:
        await send(svc, c, firing(T0))
        await send(svc, c, resolved(T0, advance(harness.clock, minutes=3)))
        holding = await incident(c)
        active = (await c.get("/api/v1/incidents", params={"status": "active"})).json()
        advance(harness.clock, seconds=119)
        await svc.tick()
        still = await incident(c)
        advance(harness.clock, seconds=1)
        await svc.tick()
        done = await incident(c)
    assert (holding["status"], holding["resolve_after"], holding["resolved_at"]) == (
        "resolving",
        "2026-03-02T10:05:00Z",
        None,
    )
    assert holding["timeline"][-1]["message"] == (
        "All alerts resolved: the incident resolves at 10:05:00 UTC unless one fires again within 2 min (hold-down)"
    )
    assert [i["status"] for i in active["incidents"]] == ["resolving"]  # still on the board
    assert still["status"] == "resolving"
    assert (done["status"], done["resolved_at"], done["resolve_after"]) == ("resolved", "2026-03-02T10:05:00Z", None)
    assert [(e["at"], e["message"]) for e in done["timeline"] if e["kind"] == "resolved"] == [
        ("2026-03-02T10:05:00Z", "Resolved: all of its alerts resolved and stayed resolved for 2 min")
    ]
    assert messages(*fakes)["pagerduty"] == ["trigger", "resolve"]


async def test_firing_after_the_hold_down_ended_is_a_reopen_even_before_the_job_ran(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    """Whether the settling job ran first must not change the outcome."""
    svc = harness.service(settings(*fakes))
    async with api_client(svc) as c:
        await send(svc, c, firing(T0))
        await send(svc, c, resolved(T0, advance(harness.clock, minutes=1)))
        later = advance(harness.clock, minutes=3)  # past the hold-down, no tick in between
        assert (await post_alerts(c, am_payload(firing(later)))).status_code == 202
        await svc.inbox.drain()
        inc = await incident(c)
        await svc.tick()
    assert (inc["status"], inc["reopen_count"]) == ("triggered", 1)
    # The resolve had not gone out when the incident reopened: the outbox takes it back
    # (notification_superseded) instead of sending resolve + trigger (13a, second line of damping).
    taken_back = [k for k in kinds(inc) if k == "notification_superseded"]
    assert len(taken_back) == 3  # the resolve of each channel (Slack, PagerDuty, webhook)
    assert [k for k in kinds(inc) if k != "notification_superseded"][-4:] == [
        "alert_resolved",
        "resolving",
        "resolved",
        "reopened",
    ]
    assert [e["message"] for e in inc["timeline"] if e["kind"] == "resolved"] == [
        "Resolved: all of its alerts resolved and stayed resolved for 2 min"
    ]
    assert messages(*fakes)["pagerduty"] == ["trigger"]


async def test_a_critical_handing_over_to_its_warning_twin_is_not_a_resolve(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    """Alertmanager inhibits the warning while the critical fires, and delivers it once the critical resolved."""
    svc = harness.service(settings(*fakes))
    async with api_client(svc) as c:
        await send(svc, c, firing(T0, severity="critical"))
        ended = advance(harness.clock, minutes=10)
        await send(svc, c, resolved(T0, ended, severity="critical"))
        twin_start = T0 + timedelta(minutes=4)  # it has been pending (inhibited) since then
        advance(harness.clock, seconds=15)
        await send(svc, c, firing(twin_start, severity="warning"))
        handed = await incident(c)
        listing = (await c.get("/api/v1/incidents")).json()
    assert listing["total"] == 1
    assert (handed["status"], handed["priority"], handed["reopen_count"]) == ("triggered", "P0", 0)
    assert sorted((a["labels"]["severity"], a["status"]) for a in handed["alerts"]) == [
        ("critical", "resolved"),
        ("warning", "firing"),
    ]
    assert [e["message"] for e in handed["timeline"] if e["kind"] == "still_open"] == [
        "PaymentFailureRate fired again 15 s after the alerts resolved: still this incident, triggered, "
        "nobody notified again (hold-down 2 min)"
    ]
    assert messages(*fakes)["pagerduty"] == ["trigger"]


async def test_an_acknowledged_incident_comes_back_acknowledged_and_a_resolving_one_can_be_acked(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    svc = harness.service(settings(*fakes))
    async with api_client(svc) as c:
        await send(svc, c, firing(T0))
        await send(svc, c, resolved(T0, advance(harness.clock, minutes=1)))
        ack = await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        await svc.tick()
        acked_while_resolving = await incident(c)
        start = advance(harness.clock, seconds=30)
        await send(svc, c, firing(start))
        back = await incident(c)
        advance(harness.clock, hours=2)
        await svc.tick()  # acknowledged: no escalation however long it fires
        later = await incident(c)
    assert ack.json() == {"id": 1, "status": "resolving", "acknowledged_by": "ana", "changed": True}
    assert acked_while_resolving["status"] == "resolving"
    assert (back["status"], back["next_escalation_at"], back["resolve_after"]) == ("acknowledged", None, None)
    assert "escalated" not in kinds(later)
    assert messages(*fakes)["pagerduty"] == ["trigger", "acknowledge"]


async def test_escalation_waits_while_resolving_and_resumes_with_its_deadline(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    svc = harness.service(
        settings(
            *fakes,
            escalation={
                "P0": [
                    {"name": "primary", "targets": ["schedule:primary"], "wait": "15m"},
                    {"name": "secondary", "targets": ["schedule:secondary"], "wait": "15m"},
                ]
            },
        )
    )
    async with api_client(svc) as c:
        await send(svc, c, firing(T0))
        await send(svc, c, resolved(T0, advance(harness.clock, minutes=14)))
        advance(harness.clock, seconds=90)  # 10:15:30, past the 10:15 deadline, inside the hold-down
        await svc.tick()
        paused = await incident(c)
        start = advance(harness.clock, seconds=15)
        await send(svc, c, firing(start))  # fires again: triggered, the deadline has passed
        resumed = await incident(c)
    assert paused["status"] == "resolving" and "escalated" not in kinds(paused)
    assert resumed["status"] == "triggered"
    assert kinds(resumed)[-5:] == ["resolving", "still_open", "alert_fired", "escalated", "notified"]
    assert resumed["escalation_step"] == 1


async def test_a_human_resolving_during_the_hold_down_resolves_at_once(
    harness: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    svc = harness.service(settings(*fakes))
    async with api_client(svc) as c:
        await send(svc, c, firing(T0))
        await send(svc, c, resolved(T0, advance(harness.clock, minutes=1)))
        r = await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        advance(harness.clock, minutes=5)
        await svc.tick()
        inc = await incident(c)
    assert r.json() == {"id": 1, "status": "resolved", "resolved_by": "ana"}
    assert (inc["resolved_by"], inc["resolved_at"]) == ("ana", "2026-03-02T10:01:00Z")
    assert kinds(inc).count("resolved") == 1
    assert messages(*fakes)["pagerduty"] == ["trigger", "resolve"]


async def test_two_replicas_settling_the_same_hold_down_resolve_it_once(
    any_store: Harness, fakes: tuple[FakeSlack, FakePagerDuty, FakeReceiver]
) -> None:
    h = any_store
    one, two = h.service(settings(*fakes)), h.service(settings(*fakes))
    async with api_client(one) as c:
        await send(one, c, firing(T0))
        await send(one, c, resolved(T0, advance(h.clock, minutes=1)))
    now = advance(h.clock, minutes=3)
    settled = await asyncio.gather(
        one.manager.hold_down.settle_due(h.engine, now), two.manager.hold_down.settle_due(h.engine, now)
    )
    assert sorted(len(s) for s in settled) == [0, 1]
    async with h.engine.connect() as conn:
        resolves = await conn.scalar(sa.select(sa.func.count()).where(outbox.c.event == "resolve"))
    assert resolves == 3  # one per channel
