"""Correlation: alerts with one probable cause are one incident naming every platform and service.

Before, one payment-processor outage shared by three platforms opened six P0 incidents
(PaymentFailureRate ×3, HighErrorRate ×3), each paging on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from fanzwatch.alerting import AlertingService, Explains
from fanzwatch.alerting.matchers import AnyOf, LabelMatcher
from fanzwatch.core.models import HOLD_ANNOTATION
from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.provisioning.render import build_provisioning
from fanzwatch.server.correlation import META_ALERTS, correlation_rules
from fanzwatch.settings.alerting import MatcherConfig

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    T0,
    Harness,
    advance,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    fingerprint,
    on_call_settings,
    post_alerts,
)


def pfr(platform: str, **kw: Any) -> dict[str, Any]:
    """PaymentFailureRate as provisioning's rule labels it."""
    return am_alert("PaymentFailureRate", severity="critical", service="payments", platform=platform, **kw)


def her(platform: str, severity: str = "critical", **kw: Any) -> dict[str, Any]:
    return am_alert("HighErrorRate", severity=severity, service="fanz-platform", platform=platform, **kw)


RULES = correlation_rules(DEFAULT_PLATFORMS)  # as the server composes them, for the 13 platforms


def service(h: Harness, *, explains: tuple[Explains, ...] = RULES, **overrides: Any) -> AlertingService:
    values = {"correlation_window": "15m", **overrides}
    return h.service(base_settings(**values), explains=explains, meta_alerts=META_ALERTS)


def processor_down(**kw: Any) -> dict[str, Any]:
    """The processor's own alert as the demo raises it: its health check, on the shared ``other`` platform."""
    labels = {"service": "payments", "platform": "other", "check": "payment_processor_primary", **kw}
    return am_alert("HealthCheckFailing", severity="warning", **labels)


def anomaly(platform: str, metric: str = "request_rate", severity: str = "warning", **kw: Any) -> dict[str, Any]:
    """The anomaly engine's meta alert, labelled as ``anomaly.engine.alertmanager`` posts it."""
    return am_alert(
        "MetricAnomaly", severity=severity, metric=metric, platform=platform, service="fanzwatch-anomaly", **kw
    )


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
    svc = h.service(on_call_settings(slack, pagerduty, correlation_window="15m", hold_down="2m"), explains=RULES)
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
        await send(svc, c, her("fanz-2"))  # fanz-2 has its own database: not this incident's symptom
        inc = await incident(c)
        found = await listing(c)
    assert found["total"] == 2
    assert inc["title"] == "Database: DatabaseConnectionPoolHigh, HighErrorRate on fanz-1"
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


def without_platform(alert: dict[str, Any]) -> dict[str, Any]:
    labels = {k: v for k, v in alert["labels"].items() if k != "platform"}
    return {**alert, "labels": labels, "fingerprint": fingerprint(labels)}


@pytest.mark.parametrize(
    ("symptom", "joins"),
    [
        (pfr("fanz-1", starts_at=T0 + timedelta(minutes=1)), True),
        (her("fanz-2", starts_at=T0 - timedelta(seconds=50)), True),  # within the 1 min lead (scrape skew)
        (pfr("fanz-3", starts_at=T0 + timedelta(minutes=4, seconds=50)), True),
        (pfr("fanz-3", starts_at=T0 - timedelta(minutes=3)), False),  # started well before its "cause"
        (pfr("fanz-3", starts_at=T0 + timedelta(minutes=8)), False),  # long after: another problem
        (am_alert("HighResponseTime", severity="warning", service="fanz-platform", platform="fanz-1"), False),
        (her("other"), False),  # not a platform the processor serves
        (without_platform(am_alert("HighErrorRate", severity="critical", service="fanzwatch")), False),
        (anomaly("fanz-1", metric="payment_success_ratio", severity="critical"), False),
    ],
    ids=[
        "declared-after",
        "declared-just-before",
        "declared-at-the-window-end",
        "declared-long-before",
        "declared-too-late",
        "undeclared",
        "unserved-platform",
        "no-platform",
        "anomaly",
    ],
)
async def test_a_symptom_joins_the_dependencys_incident_only_when_declared_timely_and_on_a_platform_it_serves(
    harness: Harness, symptom: dict[str, Any], joins: bool
) -> None:
    svc = service(harness)
    async with api_client(svc) as c:
        await send(svc, c, processor_down())
        await send(svc, c, symptom)
        found = await listing(c)
        inc = await incident(c)
    assert found["total"] == (1 if joins else 2)
    assert len(inc["alerts"]) == (2 if joins else 1)


async def test_the_demos_processor_outage_keeps_latency_and_the_shared_platform_out_of_its_incident(
    harness: Harness,
) -> None:
    """As the demo showed it: the 5xx of the shared ``other`` platform and a platform's latency were absorbed."""
    svc = service(harness)
    hrt = am_alert("HighResponseTime", severity="warning", service="fanz-platform", platform="fanz-1")
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1"), pfr("fanz-2"), her("fanz-1"))  # one processor incident
        await send(svc, c, hrt, her("other"))  # a Database symptom pair with HighErrorRate, an unserved platform
        found = await listing(c)
        first = await incident(c, 1)
    assert sorted(i["title"] for i in found["incidents"]) == [
        "HighErrorRate on other",
        "HighResponseTime on fanz-1",
        "Payment processor: PaymentFailureRate, HighErrorRate on fanz-1, fanz-2",
    ]
    assert len(first["alerts"]) == 3


async def test_an_anomaly_never_merges_into_a_dependency_incident_even_when_its_symptoms_would_match(
    harness: Harness,
) -> None:
    """A dependency declared loosely (any alert on its platform) still does not absorb the anomaly engine's alert."""
    anything = AnyOf.of((LabelMatcher.from_config(MatcherConfig(name="alertname", op="=~", value=".+")),))
    processor = next(r for r in RULES if r.cause == "Payment processor")
    loose = Explains(processor.cause, processor.source, anything, serves=frozenset(DEFAULT_PLATFORMS))
    svc = service(harness, explains=(loose,))
    async with api_client(svc) as c:
        await send(svc, c, processor_down(), pfr("fanz-1"))
        await send(svc, c, anomaly("fanz-1", metric="payment_success_ratio", severity="critical"))
        found = await listing(c)
        first = await incident(c, 1)
    assert found["total"] == 2
    assert [a["labels"]["alertname"] for a in first["alerts"]] == ["HealthCheckFailing", "PaymentFailureRate"]


async def test_an_anomaly_on_twelve_platforms_is_one_incident_whose_priority_anomalies_alone_do_not_raise(
    harness: Harness,
) -> None:
    svc = service(harness)
    platforms = DEFAULT_PLATFORMS[:12]
    async with api_client(svc) as c:
        await send(svc, c, anomaly(platforms[0]))  # warning: P1
        await send(svc, c, *(anomaly(p, severity="critical") for p in platforms[1:]))  # P0 each, by themselves
        found = await listing(c)
        inc = await incident(c)
    assert found["total"] == 1
    assert (inc["title"], inc["priority"]) == ("MetricAnomaly on 12 platforms", "P1")
    assert inc["platforms"] == sorted(platforms)
    priority = [e["message"] for e in inc["timeline"] if e["kind"] == "priority"]
    assert priority[0] == "Priority P1"
    assert (
        priority[1:] == ["Priority stays P1: MetricAnomaly (P0) does not raise an incident's priority by itself"] * 11
    )


async def test_the_same_alert_on_twelve_platforms_keeps_its_priority_and_a_short_title(harness: Harness) -> None:
    svc = service(harness)
    platforms = DEFAULT_PLATFORMS[:12]
    async with api_client(svc) as c:
        await send(svc, c, *(pfr(p) for p in platforms))
        found = await listing(c)
        inc = await incident(c)
    assert found["total"] == 1
    assert (inc["title"], inc["priority"]) == ("PaymentFailureRate on 12 platforms", "P0")
    assert inc["platforms"] == sorted(platforms)


async def test_two_symptoms_point_at_their_dependency_only_when_they_start_within_the_symptom_window(
    harness: Harness,
) -> None:
    svc = service(harness, symptom_window="5m")
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1"), her("fanz-2", starts_at=T0 + timedelta(minutes=4)))  # one incident
        await send(svc, c, her("fanz-3", starts_at=T0 + timedelta(minutes=12)))  # 8 min after fanz-2's: its own
        found = await listing(c)
    assert sorted(i["title"] for i in found["incidents"]) == [
        "HighErrorRate on fanz-3",
        "Payment processor: PaymentFailureRate, HighErrorRate on fanz-1, fanz-2",
    ]


def provisioned_hold(alertname: str, severity: str) -> dict[str, str]:
    """The annotations Prometheus sends with ``alertname``: its rule's ``hold`` as provisioned (production pace)."""
    rules = build_provisioning(ProvisioningSettings()).alert_rules()
    rule = next(r for r in rules if r.name == alertname and r.severity.value == severity)
    annotations = rule.to_dict(runbook_base_url="http://rb")["annotations"]
    return {k: annotations[k] for k in ("summary", "description", HOLD_ANNOTATION)}


async def test_a_long_hold_cause_firing_after_its_short_hold_symptoms_still_takes_them_in(harness: Harness) -> None:
    """The processor's non-critical check holds 5 min, PaymentFailureRate 1 min: the cause fires last.

    Its symptoms began 30-90 s after it (the checks failed at T0), but Prometheus sends each when it fired:
    the symptoms at T0 + 1.5-2.5 min, the processor at T0 + 5 min. Compared by when they fired, the
    symptoms started 2.5-3.5 min before their "cause" and the processor opened a second incident (a
    second page); compared by when they began, it is one incident.
    """
    assert provisioned_hold("HealthCheckFailing", "warning")[HOLD_ANNOTATION] == "5m"
    pfr_hold = provisioned_hold("PaymentFailureRate", "critical")
    her_hold = provisioned_hold("HighErrorRate", "critical")
    svc = service(harness)
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1", starts_at=T0 + timedelta(seconds=90), annotations=pfr_hold))
        await send(svc, c, pfr("fanz-2", starts_at=T0 + timedelta(seconds=95), annotations=pfr_hold))
        await send(svc, c, her("fanz-1", starts_at=T0 + timedelta(seconds=150), annotations=her_hold))
        await send(
            svc,
            c,
            processor_down(
                starts_at=T0 + timedelta(minutes=5), annotations=provisioned_hold("HealthCheckFailing", "warning")
            ),
        )
        found = await listing(c)
        inc = await incident(c)
    assert found["total"] == 1
    assert (
        inc["title"]
        == "Payment processor: PaymentFailureRate, HighErrorRate, HealthCheckFailing on fanz-1, fanz-2, other"
    )


async def test_without_holds_a_cause_firing_minutes_after_its_symptoms_is_its_own_incident(harness: Harness) -> None:
    """The same arrival times without ``hold`` annotations (an alert from elsewhere): timed as they fired."""
    svc = service(harness)
    async with api_client(svc) as c:
        await send(svc, c, pfr("fanz-1", starts_at=T0 + timedelta(seconds=90)))
        await send(svc, c, pfr("fanz-2", starts_at=T0 + timedelta(seconds=95)))
        await send(svc, c, processor_down(starts_at=T0 + timedelta(minutes=5)))
        found = await listing(c)
    assert found["total"] == 2
