"""Correlation: alerts with one probable cause are one incident naming every platform and service.

Before, one payment-processor outage shared by three platforms opened six P0 incidents
(PaymentFailureRate ×3, HighErrorRate ×3), each paging on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from fanzwatch.alerting import AlertingService
from fanzwatch.server.correlation import correlation_rules

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    T0,
    Harness,
    advance,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    on_call_settings,
    post_alerts,
)


def pfr(platform: str, **kw: Any) -> dict[str, Any]:
    """PaymentFailureRate as provisioning's rule labels it."""
    return am_alert("PaymentFailureRate", severity="critical", service="payments", platform=platform, **kw)


def her(platform: str, severity: str = "critical", **kw: Any) -> dict[str, Any]:
    return am_alert("HighErrorRate", severity=severity, service="fanz-platform", platform=platform, **kw)


def service(h: Harness, **overrides: Any) -> AlertingService:
    values = {"correlation_window": "15m", **overrides}
    return h.service(base_settings(**values), explains=correlation_rules())


async def send(svc: AlertingService, c: httpx.AsyncClient, *alerts: dict[str, Any]) -> None:
    for alert in alerts:  # one webhook call each: the fanzwatch route sends alerts ungrouped
        assert (await post_alerts(c, am_payload(alert))).status_code == 202
    await svc.tick()


async def listing(c: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await c.get("/api/v1/incidents", params=params)).json()
    return body


async def incident(c: httpx.AsyncClient, incident_id: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = (await c.get(f"/api/v1/incidents/{incident_id}")).json()
    return body


OUTAGE_ORDERS = {
    # The demo: payments fail first (1 min hold), the 5xx ratio follows (2 min hold).
    "payments-first": [pfr("fanz-1"), pfr("fanz-2"), pfr("fanz-3"), her("fanz-1"), her("fanz-2"), her("fanz-3")],
    # Adversarial: symptoms arrive interleaved, no two in a row of one alert or platform.
    "interleaved": [her("fanz-1"), pfr("fanz-2"), her("fanz-3"), pfr("fanz-1"), her("fanz-2"), pfr("fanz-3")],
}


@pytest.mark.parametrize("order", list(OUTAGE_ORDERS), ids=list(OUTAGE_ORDERS))
async def test_a_payment_processor_outage_on_three_platforms_is_one_p0_incident(
    any_store: Harness, slack: FakeSlack, pagerduty: FakePagerDuty, order: str
) -> None:
    h = any_store  # SQLite and PostgreSQL
    svc = h.service(
        on_call_settings(slack, pagerduty, correlation_window="15m", hold_down="2m"), explains=correlation_rules()
    )
    alerts = OUTAGE_ORDERS[order]
    async with api_client(svc) as c:
        for alert in alerts:
            advance(h.clock, seconds=20)
            await send(svc, c, alert)
        found = await listing(c)
        inc = await incident(c)
        on_fanz3 = await listing(c, platform="fanz-3")
        for alert in alerts:  # the processor recovers
            await send(svc, c, {**alert, "status": "resolved", "endsAt": "2026-03-02T10:20:00Z"})
        advance(h.clock, minutes=3)
        await svc.tick()
        done = await incident(c)
    first_names = (
        "PaymentFailureRate, HighErrorRate" if order == "payments-first" else "HighErrorRate, PaymentFailureRate"
    )
    assert found["total"] == 1
    assert (inc["priority"], inc["status"]) == ("P0", "triggered")
    assert inc["title"] == f"Payment processor: {first_names} on fanz-1, fanz-2, fanz-3"
    assert inc["platforms"] == ["fanz-1", "fanz-2", "fanz-3"]
    assert inc["services"] == ["fanz-platform", "payments"]
    assert len(inc["alerts"]) == 6
    assert [e["message"] for e in inc["timeline"] if "correlation" in e["message"]][-1] == (
        f"{alerts[-1]['labels']['alertname']} on fanz-3 joined by correlation (same probable cause): "
        f"now Payment processor: {first_names} on fanz-1, fanz-2, fanz-3"
    )
    assert [i["id"] for i in on_fanz3["incidents"]] == [1]
    assert done["status"] == "resolved"
    assert pagerduty.events() == [("trigger", "fanzwatch-incident-1"), ("resolve", "fanzwatch-incident-1")]
    assert len(slack.accepted) == 2


async def test_the_dependency_alert_absorbs_the_symptoms_it_explains(harness: Harness) -> None:
    svc = service(harness)
    processor = am_alert(
        "HealthCheckFailing",
        severity="warning",
        service="payments",
        platform="fanz-1",
        check="payment_processor_primary",
        job="fanz-platform",
        instance="fanz-1:8000",
    )
    async with api_client(svc) as c:
        await send(svc, c, processor)
        advance(harness.clock, minutes=1)
        await send(svc, c, her("fanz-2"))  # another platform: the processor is shared
        inc = await incident(c)
        found = await listing(c)
    assert found["total"] == 1
    assert inc["title"] == "Payment processor: HealthCheckFailing, HighErrorRate on fanz-1, fanz-2"
    assert inc["priority"] == "P0"  # payments are affected


async def test_a_database_alert_absorbs_its_platforms_symptoms_and_takes_the_highest_priority(
    harness: Harness,
) -> None:
    svc = service(harness)
    pool = am_alert("DatabaseConnectionPoolHigh", severity="warning", service="database", platform="fanz-1")
    async with api_client(svc) as c:
        await send(svc, c, pool)
        advance(harness.clock, minutes=1)
        await send(svc, c, her("fanz-1"))  # same platform: explained by its database
        await send(svc, c, her("fanz-2"))  # ... and the same alert on another platform joins too
        inc = await incident(c)
        found = await listing(c)
    assert found["total"] == 1
    assert inc["title"] == "Database: DatabaseConnectionPoolHigh, HighErrorRate on fanz-1, fanz-2"
    assert inc["priority"] == "P0"
    assert [e["message"] for e in inc["timeline"] if e["kind"] == "priority"][-1] == (
        "Priority raised P1 → P0: HighErrorRate"
    )


@pytest.mark.parametrize(
    "pair",
    [
        (her("fanz-1"), am_alert("HighMemoryUsage", severity="critical", service="fanz-platform", platform="fanz-2")),
        # Each platform has its own database: its symptoms on two platforms are two problems.
        (
            am_alert("HighResponseTime", severity="warning", service="fanz-platform", platform="fanz-1"),
            her("fanz-2", severity="warning"),
        ),
        (
            am_alert("MetricAnomaly", severity="info", metric="signups", platform="fanz-1"),
            am_alert("MetricAnomaly", severity="info", metric="request_rate", platform="fanz-2"),
        ),
        (
            am_alert("HealthCheckFailing", severity="warning", check="redis", platform="fanz-1"),
            am_alert("HealthCheckFailing", severity="warning", check="object_storage", platform="fanz-2"),
        ),
    ],
    ids=["different-alerts", "database-symptoms-on-two-platforms", "anomalies-of-two-metrics", "two-checks"],
)
async def test_unrelated_alerts_stay_separate_incidents(harness: Harness, pair: tuple[dict[str, Any], ...]) -> None:
    svc = service(harness)
    async with api_client(svc) as c:
        await send(svc, c, *pair)
        found = await listing(c)
    assert found["total"] == 2


async def test_the_same_alert_on_another_platform_joins_only_within_the_window(harness: Harness) -> None:
    svc = service(harness)
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1"))
        await send(svc, c, pfr("fanz-2", starts_at=T0 + timedelta(minutes=14)))  # within 15 min: joins
        await send(svc, c, pfr("fanz-3", starts_at=T0 + timedelta(minutes=40)))  # long after: its own
        found = await listing(c)
        first = await incident(c, 1)
    assert [(i["id"], i["title"]) for i in found["incidents"]] == [
        (2, "PaymentFailureRate on fanz-3"),
        (1, "PaymentFailureRate on fanz-1, fanz-2"),
    ]
    assert first["platforms"] == ["fanz-1", "fanz-2"]


async def test_correlation_off_keeps_groups_apart(harness: Harness) -> None:
    svc = service(harness, correlation_window="0s")
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1"), pfr("fanz-2"))
        found = await listing(c)
    assert found["total"] == 2


async def test_a_warning_twin_in_another_group_takes_over_its_criticals_incident(harness: Harness) -> None:
    """Groups split by severity (``group_by`` includes it): the hand-over still is one incident, no resolve."""
    svc = service(harness, group_by=("alertname", "platform", "severity"), hold_down="2m")
    async with api_client(svc) as c:
        await send(svc, c, her("fanz-1"))
        advance(harness.clock, minutes=10)
        await send(svc, c, {**her("fanz-1"), "status": "resolved", "endsAt": "2026-03-02T10:10:00Z"})
        advance(harness.clock, seconds=30)
        await send(svc, c, her("fanz-1", severity="warning", starts_at=T0 + timedelta(minutes=4)))
        found = await listing(c)
        inc = await incident(c)
    assert found["total"] == 1
    assert (inc["status"], inc["priority"], inc["reopen_count"]) == ("triggered", "P0", 0)
    assert [k["kind"] for k in inc["timeline"]][-3:] == ["resolving", "still_open", "alert_fired"]
