"""Escalation with a frozen clock: steps on time, acknowledgement stops it, snapshots hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fanzwatch.alerting.escalation import EscalationSnapshot, next_handover, on_call
from fanzwatch.alerting.timeline import human
from fanzwatch.core.models import Priority
from fanzwatch.settings.alerting import ScheduleConfig

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import Harness, advance, am_alert, am_payload, api_client, on_call_settings, post_alerts


def slack_recipients(slack: FakeSlack) -> list[str]:
    """Who each accepted Slack message was for, in order (the message says "for <user>")."""
    return [r.body["blocks"][1]["text"]["text"].rsplit("(for ", 1)[1].rstrip(")") for r in slack.accepted]


def timeline(inc: dict[str, Any], *kinds: str) -> list[tuple[str, str]]:
    return [(e["at"], e["message"]) for e in inc["timeline"] if e["kind"] in kinds]


async def test_unacknowledged_past_the_target_escalates_step_by_step(
    any_store: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    svc = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))  # P0: 15 minutes per step
        await svc.tick()
        assert pagerduty.events() == [("trigger", "fanzwatch-incident-1")]
        assert slack_recipients(slack) == ["ana"]

        advance(harness.clock, minutes=14, seconds=59)
        await svc.tick()
        assert len(pagerduty.accepted) == 1  # not yet

        advance(harness.clock, seconds=1)  # 10:15: the target passed unacknowledged
        await svc.tick()
        assert [r.body["payload"]["custom_details"]["reason"] for r in pagerduty.accepted][-1] == (
            "escalation step 2 (secondary): not acknowledged within 15 min of the previous step"
        )
        assert len(pagerduty.accepted) == 2  # ben, secondary, by PagerDuty only

        advance(harness.clock, minutes=15)
        await svc.tick()
        advance(harness.clock, minutes=15)
        await svc.tick()
        advance(harness.clock, minutes=15)
        await svc.tick()
        advance(harness.clock, hours=5)
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert slack_recipients(slack) == ["ana", "lee", "sam"]
    assert len(pagerduty.accepted) == 2
    assert timeline(inc, "notifying", "escalated", "escalation_exhausted") == [
        ("2026-03-02T10:00:00Z", "Step 1 (primary): notifying ana (schedule:primary) via pd, ops-slack"),
        ("2026-03-02T10:15:00Z", "Step 2 (secondary): notifying ben (schedule:secondary) via pd"),
        ("2026-03-02T10:30:00Z", "Step 3 (engineering-lead): notifying lee (schedule:engineering-lead) via ops-slack"),
        ("2026-03-02T10:45:00Z", "Step 4 (stakeholders): notifying sam (schedule:stakeholders) via ops-slack"),
        ("2026-03-02T11:00:00Z", "Escalation policy exhausted: not acknowledged after 4 step(s)"),
    ]
    assert inc["escalation_step"] == 3 and inc["next_escalation_at"] is None
    assert sum(1 for e in inc["timeline"] if e["kind"] == "notified") == 5


async def test_acknowledged_escalation_stops_and_everyone_notified_hears_it(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    svc = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("HighLatency", severity="warning")))  # P1: one hour
        await svc.tick()
        advance(harness.clock, minutes=61)
        await svc.tick()  # ben (secondary) paged
        advance(harness.clock, minutes=10)
        assert (await c.post("/api/v1/incidents/1/ack", json={"by": "ben"})).status_code == 200
        await svc.tick()
        advance(harness.clock, hours=6)
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert pagerduty.events() == [
        ("trigger", "fanzwatch-incident-1"),
        ("trigger", "fanzwatch-incident-1"),
        ("acknowledge", "fanzwatch-incident-1"),
    ]
    assert slack_recipients(slack) == ["ana", "ana"]  # her trigger, then the acknowledgement
    assert slack.accepted[-1].body["text"] == ":eyes: [P1] Incident #1 acknowledged: HighLatency on fanz-1"
    assert inc["status"] == "acknowledged" and inc["next_escalation_at"] is None
    assert [e["kind"] for e in inc["timeline"] if e["kind"] in ("escalated", "escalation_exhausted")] == ["escalated"]


async def test_acknowledging_before_the_target_means_nobody_else_is_paged(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    svc = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(harness.clock, minutes=14)
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        for _ in range(4):
            advance(harness.clock, minutes=15)
            await svc.tick()
    assert pagerduty.events() == [("trigger", "fanzwatch-incident-1"), ("acknowledge", "fanzwatch-incident-1")]
    assert slack_recipients(slack) == ["ana", "ana"]


async def test_a_late_tick_catches_up_on_every_missed_step(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    svc = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(harness.clock, minutes=40)  # the server was busy: steps 2 and 3 are both due
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert inc["escalation_step"] == 2
    assert inc["next_escalation_at"] == "2026-03-02T10:45:00Z"  # chained from the deadlines, not from now
    assert [m for _, m in timeline(inc, "escalated")] == [
        "Step 2 (secondary): notifying ben (schedule:secondary) via pd",
        "Step 3 (engineering-lead): notifying lee (schedule:engineering-lead) via ops-slack",
    ]


async def test_the_policy_is_snapshotted_when_the_incident_opens(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    first = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(first) as c:
        await post_alerts(c, am_payload(am_alert()))
        await first.tick()
    await first.stop()
    # Restarted with a new policy: P0 now waits an hour and goes straight to the lead.
    changed = on_call_settings(
        slack, pagerduty, escalation={"P0": [{"name": "lead-only", "targets": ["user:lee"], "wait": "1h"}]}
    )
    second = harness.service(changed)
    async with api_client(second) as c:
        advance(harness.clock, minutes=16)
        await second.tick()
        old = (await c.get("/api/v1/incidents/1")).json()
        await post_alerts(c, am_payload(am_alert("HighErrorRate")))
        await second.tick()
        new = (await c.get("/api/v1/incidents/2")).json()
    assert [s["name"] for s in old["escalation"]["steps"]] == [
        "primary",
        "secondary",
        "engineering-lead",
        "stakeholders",
    ]
    assert old["escalation_step"] == 1  # escalated to the secondary after 15 minutes, as snapshotted
    assert [s["name"] for s in new["escalation"]["steps"]] == ["lead-only"]
    assert new["next_escalation_at"] == "2026-03-02T11:16:00Z"


async def test_the_rotation_decides_who_is_paged(harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty) -> None:
    harness.clock.advance(timedelta(days=7))  # week 2: ben is primary, ana secondary
    svc = harness.service(on_call_settings(slack, pagerduty))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert inc["timeline"][3]["message"] == "Step 1 (primary): notifying ben (schedule:primary) via pd"
    assert slack.accepted == []


@pytest.mark.parametrize(
    ("at", "expected", "handover"),
    [
        (datetime(2026, 3, 2, 8, 59, tzinfo=UTC), "cy", datetime(2026, 3, 2, 9, tzinfo=UTC)),  # before start
        (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "ana", datetime(2026, 3, 9, 9, tzinfo=UTC)),
        (datetime(2026, 3, 9, 8, 59, tzinfo=UTC), "ana", datetime(2026, 3, 9, 9, tzinfo=UTC)),
        (datetime(2026, 3, 9, 9, 0, tzinfo=UTC), "ben", datetime(2026, 3, 16, 9, tzinfo=UTC)),
        (datetime(2026, 3, 23, 9, 0, tzinfo=UTC), "ana", datetime(2026, 3, 30, 9, tzinfo=UTC)),
    ],
)
def test_weekly_rotation(at: datetime, expected: str, handover: datetime) -> None:
    s = ScheduleConfig(name="p", users=("ana", "ben", "cy"), start=datetime(2026, 3, 2, 9, tzinfo=UTC))
    assert on_call(s, at) == expected
    assert next_handover(s, at) == handover


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45 s"), (90, "90 s"), (900, "15 min"), (3600, "1 h"), (5400, "1 h 30 min")]
)
def test_durations_read_like_people_write_them(seconds: int, text: str) -> None:
    assert human(timedelta(seconds=seconds)) == text


def test_daily_rotation_in_a_local_timezone() -> None:
    s = ScheduleConfig(name="p", users=("ana", "ben"), rotation="daily", start="2026-03-02T08:00:00-05:00")
    # 08:00 in UTC-5 is 13:00 UTC: hand-overs happen then, every day.
    assert on_call(s, datetime(2026, 3, 2, 13, 0, tzinfo=UTC)) == "ana"
    assert on_call(s, datetime(2026, 3, 3, 12, 59, tzinfo=UTC)) == "ana"
    assert on_call(s, datetime(2026, 3, 3, 13, 0, tzinfo=UTC)) == "ben"
    assert on_call(s, datetime(2026, 3, 4, 13, 0, tzinfo=UTC)) == "ana"


def test_built_in_policy_skips_schedules_that_are_not_configured(slack: FakeSlack, pagerduty: FakePagerDuty) -> None:
    settings = on_call_settings(slack, pagerduty, schedules=[{"name": "primary", "users": ["ana"]}])
    snap = EscalationSnapshot.take(settings, Priority.P2, taken_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert [(s.name, s.wait) for s in snap.steps] == [("primary", timedelta(hours=4))]
    assert EscalationSnapshot.from_json(snap.to_json()) == snap


BERLIN_DAILY = ScheduleConfig(
    name="p", users=("ana", "ben"), rotation="daily", start="2026-03-23T09:00:00", timezone="Europe/Berlin"
)


@pytest.mark.parametrize(
    ("at", "expected", "handover"),
    [
        # Winter time (CET, UTC+1): 09:00 in Berlin is 08:00 UTC.
        (datetime(2026, 3, 28, 7, 59, tzinfo=UTC), "ana", datetime(2026, 3, 28, 8, tzinfo=UTC)),
        (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), "ben", datetime(2026, 3, 29, 7, tzinfo=UTC)),
        # Summer time from 29 March 02:00 (CEST, UTC+2): 09:00 in Berlin is 07:00 UTC.
        (datetime(2026, 3, 29, 6, 59, tzinfo=UTC), "ben", datetime(2026, 3, 29, 7, tzinfo=UTC)),
        (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), "ana", datetime(2026, 3, 30, 7, tzinfo=UTC)),
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "ben", datetime(2026, 3, 31, 7, tzinfo=UTC)),
        # Back to winter time on 25 October 03:00: 08:00 UTC again.
        (datetime(2026, 10, 24, 7, 0, tzinfo=UTC), "ben", datetime(2026, 10, 25, 8, tzinfo=UTC)),
        (datetime(2026, 10, 25, 7, 59, tzinfo=UTC), "ben", datetime(2026, 10, 25, 8, tzinfo=UTC)),
        (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), "ana", datetime(2026, 10, 26, 8, tzinfo=UTC)),
    ],
)
def test_a_berlin_rotation_hands_over_at_0900_local_on_both_sides_of_the_dst_changes(
    at: datetime, expected: str, handover: datetime
) -> None:
    assert on_call(BERLIN_DAILY, at) == expected
    assert next_handover(BERLIN_DAILY, at) == handover
    assert handover.astimezone(ZoneInfo("Europe/Berlin")).hour == 9


def test_a_weekly_berlin_rotation_spans_the_change_at_local_time() -> None:
    s = ScheduleConfig(name="p", users=("ana", "ben"), start="2026-03-23T09:00:00+01:00", timezone="Europe/Berlin")
    assert next_handover(s, datetime(2026, 3, 24, tzinfo=UTC)) == datetime(2026, 3, 30, 7, tzinfo=UTC)  # 167 h later
    assert on_call(s, datetime(2026, 3, 30, 6, 59, tzinfo=UTC)) == "ana"
    assert on_call(s, datetime(2026, 3, 30, 7, 0, tzinfo=UTC)) == "ben"


def test_without_a_zone_the_start_offset_is_kept() -> None:
    s = ScheduleConfig(name="p", users=("ana", "ben"), rotation="daily", start="2026-03-23T09:00:00+01:00")
    assert next_handover(s, datetime(2026, 3, 30, 6, tzinfo=UTC)) == datetime(2026, 3, 30, 8, tzinfo=UTC)


async def test_the_step_after_the_dst_change_pages_whoever_is_on_call_at_local_0900(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    schedules = [
        {
            "name": "primary",
            "users": ["ana", "ben"],
            "rotation": "daily",
            "start": "2026-03-23T09:00:00",
            "timezone": "Europe/Berlin",
        },
    ]
    harness.clock.advance(datetime(2026, 3, 30, 7, 5, tzinfo=UTC) - harness.clock.now())  # 09:05 in Berlin (CEST)
    svc = harness.service(on_call_settings(slack, pagerduty, schedules=schedules))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    # 30 March 09:00 in Berlin is the 7th hand-over after 23 March: ben's turn. A hand-over at
    # a fixed UTC instant (08:00 UTC, right in winter) would still have ana on call at 07:05 UTC.
    assert [m for _, m in timeline(inc, "notifying")] == ["Step 1 (primary): notifying ben (schedule:primary) via pd"]


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"start": "2026-01-05T09:00:00"}, "the rotation start needs a time zone"),
    ],
)
def test_bad_schedule_zones_are_refused(schedule: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ScheduleConfig(name="p", users=("ana",), **schedule)
