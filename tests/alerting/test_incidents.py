"""Incidents: grouping, priority, resolution, reopening, ordering, and the incident API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from ._helpers import (
    T0,
    Harness,
    advance,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    post_alerts,
)


async def send(svc: Any, client: httpx.AsyncClient, *alerts: dict[str, Any], **kwargs: Any) -> None:
    assert (await post_alerts(client, am_payload(*alerts, **kwargs))).status_code == 202
    await svc.tick()


async def incident(client: httpx.AsyncClient, incident_id: int) -> dict[str, Any]:
    r = await client.get(f"/api/v1/incidents/{incident_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def kinds(inc: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in inc["timeline"]]


async def test_ungrouped_alerts_group_by_alertname_and_platform(harness: Harness) -> None:
    svc = harness.service(base_settings(correlation_window="0s"))  # grouping alone (correlation: test_correlation)
    async with api_client(svc) as c:
        await send(svc, c, am_alert(instance="a:1"))
        await send(svc, c, am_alert(instance="b:1"))  # same alertname and platform: joins
        await send(svc, c, am_alert(platform="fanz-2"))  # another platform: its own incident
        listing = (await c.get("/api/v1/incidents")).json()
        first = await incident(c, 1)
    assert listing["total"] == 2
    assert [(i["id"], i["title"], i["priority"], i["status"]) for i in listing["incidents"]] == [
        (2, "PaymentFailureRate on fanz-2", "P0", "triggered"),
        (1, "PaymentFailureRate on fanz-1", "P0", "triggered"),
    ]
    assert [a["labels"]["instance"] for a in first["alerts"]] == ["a:1", "b:1"]
    assert kinds(first) == ["opened", "alert_fired", "priority", "notifying", "alert_fired"]
    assert first["timeline"][-1]["message"] == "PaymentFailureRate joined: PaymentFailureRate on fanz-1"


async def test_grouped_payloads_use_the_routes_group_key(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        await send(
            svc,
            c,
            am_alert("HighErrorRate", platform="fanz-1"),
            am_alert("HighLatency", platform="fanz-1"),
            group_by=("platform",),
        )
        listing = (await c.get("/api/v1/incidents")).json()
        inc = await incident(c, 1)
    assert listing["total"] == 1
    assert inc["group_key"] == 'am:{}/{}:{platform="fanz-1"}'
    assert sorted(a["alertname"] for a in inc["alerts"]) == ["HighErrorRate", "HighLatency"]


async def test_the_incident_resolves_when_all_of_its_alerts_resolved(any_store: Harness) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    svc = harness.service(base_settings())
    a, b = am_alert(instance="a:1"), am_alert(instance="b:1")
    async with api_client(svc) as c:
        await send(svc, c, a, b)
        advance(harness.clock, minutes=3)
        await send(svc, c, {**a, "status": "resolved", "endsAt": "2026-03-02T10:02:30Z"})
        half = await incident(c, 1)
        advance(harness.clock, minutes=1)
        await send(svc, c, {**b, "status": "resolved", "endsAt": "2026-03-02T10:03:30Z"})
        done = await incident(c, 1)
    assert half["status"] == "triggered"
    assert [x["status"] for x in half["alerts"]] == ["resolved", "firing"]
    assert done["status"] == "resolved"
    assert done["resolved_by"] == "alertmanager"
    assert done["resolved_at"] == "2026-03-02T10:04:00Z"
    assert done["next_escalation_at"] is None
    assert done["alerts"][0]["ends_at"] == "2026-03-02T10:02:30Z"
    assert kinds(done)[-3:] == ["alert_resolved", "alert_resolved", "resolved"]
    assert done["timeline"][-1]["message"] == "Resolved: all of its alerts resolved"


@pytest.mark.parametrize(
    ("alert", "priority", "message"),
    [
        (am_alert("HighErrorRate", severity="critical"), "P0", "Priority P0"),
        (am_alert("HighLatency", severity="warning", service="api"), "P1", "Priority P1"),
        (am_alert("DiskFilling", severity="info", priority="bogus"), "P2", "Priority P2"),
        (
            am_alert("PaymentsSlow", severity="warning", service="payments"),
            "P0",
            "Priority P0, raised from P1: payments are affected",
        ),
        (
            am_alert("MetricAnomaly", severity="info", metric="payment_success_ratio", service="fanzwatch-anomaly"),
            "P1",
            "Priority P1, raised from P2: payment success or revenue is anomalous",
        ),
        (am_alert("MetricAnomaly", severity="info", metric="request_rate"), "P2", "Priority P2"),
        (
            am_alert("SLOErrorBudgetBurnSlow", severity="warning", service="payments", sloth_severity="ticket"),
            "P1",
            "Priority P1",
        ),
        (am_alert("Custom", severity="unknown", priority="P1"), "P1", "Priority P1"),
    ],
    ids=[
        "critical",
        "warning",
        "info",
        "payments",
        "payment-anomaly",
        "other-anomaly",
        "payments-ticket",
        "priority-label",
    ],
)
async def test_priority_from_labels_raised_by_business_impact(
    harness: Harness, alert: dict[str, Any], priority: str, message: str
) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        await send(svc, c, alert)
        inc = await incident(c, 1)
    assert inc["priority"] == priority
    assert inc["escalation"]["priority"] == priority
    assert [e["message"] for e in inc["timeline"] if e["kind"] == "priority"] == [message]


async def test_a_more_urgent_alert_joining_raises_the_incident(harness: Harness) -> None:
    svc = harness.service(
        base_settings(
            group_by=("platform",),
            users=[{"name": "ana", "notify": ["hook"]}],
            channels=[{"kind": "webhook", "name": "hook", "url": "http://127.0.0.1:9/hook"}],
            schedules=[{"name": "primary", "users": ["ana"]}],
        )
    )
    async with api_client(svc) as c:
        await send(svc, c, am_alert("HighLatency", severity="warning"))
        before = await incident(c, 1)
        advance(harness.clock, minutes=5)
        await send(svc, c, am_alert("HighErrorRate", severity="critical"))
        after = await incident(c, 1)
    assert before["priority"] == "P1"
    assert before["next_escalation_at"] == "2026-03-02T11:00:00Z"  # P1: one hour
    assert after["priority"] == "P0"
    assert after["timeline"][-1]["message"] == "Priority raised P1 → P0: HighErrorRate"
    # The P0 policy applies from now: 15 minutes, sooner than the P1 hour.
    assert after["next_escalation_at"] == "2026-03-02T10:20:00Z"
    assert after["escalation"]["steps"][0]["wait_seconds"] == 900


async def test_a_group_firing_again_soon_reopens_its_incident_later_a_new_one(harness: Harness) -> None:
    svc = harness.service(base_settings(reopen_window="10m"))
    async with api_client(svc) as c:
        await send(svc, c, am_alert())
        advance(harness.clock, minutes=2)
        await send(svc, c, am_alert(status="resolved", ends_at=harness.clock.now()))
        advance(harness.clock, minutes=4)
        await send(svc, c, am_alert(starts_at=harness.clock.now()))  # 4 min later: reopens
        reopened = await incident(c, 1)
        advance(harness.clock, minutes=1)
        await send(
            svc, c, am_alert(status="resolved", starts_at=T0 + timedelta(minutes=6), ends_at=harness.clock.now())
        )
        advance(harness.clock, minutes=11)
        await send(svc, c, am_alert(starts_at=harness.clock.now()))  # 11 min later: a new incident
        listing = (await c.get("/api/v1/incidents")).json()
    assert reopened["status"] == "triggered"
    assert reopened["reopen_count"] == 1
    assert reopened["alerts"][0]["fired_count"] == 2
    assert [e["message"] for e in reopened["timeline"] if e["kind"] == "reopened"] == [
        "Reopened: PaymentFailureRate fired again 240 s after the incident resolved"
    ]
    assert [(i["id"], i["status"]) for i in listing["incidents"]] == [(2, "triggered"), (1, "resolved")]


async def test_out_of_order_deliveries_are_stale(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        # The resolution arrives before the firing it ends: nothing opens.
        await send(svc, c, am_alert(status="resolved", ends_at=T0 + timedelta(minutes=1)))
        await send(svc, c, am_alert())
        assert (await c.get("/api/v1/incidents")).json()["total"] == 0
        # A late resolution of an earlier firing does not resolve the current one.
        await send(svc, c, am_alert(starts_at=T0 + timedelta(minutes=10)))
        await send(svc, c, am_alert(status="resolved", starts_at=T0 + timedelta(minutes=5), ends_at=T0))
        inc = await incident(c, 1)
    assert inc["status"] == "triggered"
    assert harness.metric("fanz_alerting_webhook_alerts_total", platform="fanz-1", status="firing", result="stale") == 1
    assert (
        harness.metric("fanz_alerting_webhook_alerts_total", platform="fanz-1", status="resolved", result="stale") == 1
    )


async def test_acknowledge_resolve_and_notes_through_the_api(any_store: Harness) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        await send(svc, c, am_alert())
        advance(harness.clock, minutes=4)
        ack = await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        again = await c.post("/api/v1/incidents/1/ack", json={"by": "ben"})
        note = await c.post("/api/v1/incidents/1/notes", json={"by": "ana", "text": "primary processor returns 503"})
        resolved = await c.post("/api/v1/incidents/1/resolve", json={"by": "ana", "note": "failed over by hand"})
        twice = await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        late_ack = await c.post("/api/v1/incidents/1/ack", json={"by": "ben"})
        inc = await incident(c, 1)
        # The alert keeps firing (Alertmanager repeats it): the human's decision stands.
        await send(svc, c, am_alert())
        still = (await c.get("/api/v1/incidents")).json()
    assert ack.status_code == 200
    assert ack.json() == {"id": 1, "status": "acknowledged", "acknowledged_by": "ana", "changed": True}
    assert again.json() == {"id": 1, "status": "acknowledged", "acknowledged_by": "ana", "changed": False}
    assert note.status_code == 201
    assert resolved.json() == {"id": 1, "status": "resolved", "resolved_by": "ana"}
    assert twice.status_code == 409 and twice.json() == {"detail": "incident 1 is already resolved"}
    assert late_ack.status_code == 409
    assert [(e["kind"], e["actor"], e["message"]) for e in inc["timeline"][-4:]] == [
        ("acknowledged", "ana", "Acknowledged by ana after 240 s; escalation stopped"),
        ("note", "ana", "primary processor returns 503"),
        ("note", "ana", "failed over by hand"),
        ("resolved", "ana", "Resolved by ana"),
    ]
    assert still["total"] == 1
    assert harness.metric("fanz_alerting_time_to_acknowledge_seconds_sum", platform="fanz-1", priority="P0") == 240


async def test_list_filters_and_bad_requests(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        await send(svc, c, am_alert())
        await send(svc, c, am_alert("HighLatency", severity="warning", platform="fanz-2"))
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        p1 = (await c.get("/api/v1/incidents", params={"priority": "P1"})).json()
        acked = (await c.get("/api/v1/incidents", params={"status": "acknowledged"})).json()
        active = (await c.get("/api/v1/incidents", params={"status": "active", "platform": "fanz-2"})).json()
        paged = (await c.get("/api/v1/incidents", params={"limit": 1, "offset": 1})).json()
        missing = await c.get("/api/v1/incidents/99")
        ack_missing = await c.post("/api/v1/incidents/99/ack", json={"by": "ana"})
        bad_status = await c.get("/api/v1/incidents", params={"status": "open"})
        bad_body = await c.post("/api/v1/incidents/1/notes", json={"by": "ana"})
        extra = await c.post("/api/v1/incidents/1/ack", json={"by": "ana", "as": "root"})
        bad_id = await c.get("/api/v1/incidents/abc")
    assert [i["id"] for i in p1["incidents"]] == [2]
    assert [i["id"] for i in acked["incidents"]] == [1]
    assert [i["id"] for i in active["incidents"]] == [2]
    assert paged["total"] == 2 and [i["id"] for i in paged["incidents"]] == [1]
    assert missing.status_code == 404 and missing.json() == {"detail": "incident 99 does not exist"}
    assert ack_missing.status_code == 404
    for r in (bad_status, bad_body, extra, bad_id):
        assert r.status_code == 422


async def test_open_incidents_gauge_follows_the_store(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as c:
        await send(svc, c, am_alert())
        await send(svc, c, am_alert("HighLatency", severity="warning", platform="fanz-2"))
        assert harness.metric("fanz_alerting_incidents_open", platform="fanz-1", priority="P0") == 1
        assert harness.metric("fanz_alerting_incidents_open", platform="fanz-2", priority="P1") == 1
        await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        await svc.tick()
    assert harness.metric("fanz_alerting_incidents_open", platform="fanz-1", priority="P0") == 0
    assert harness.metric("fanz_alerting_incidents_open", platform="fanz-2", priority="P1") == 1
