"""The probe, journey, scrape-target and SLO-burn alerts correlate with the dependency they come from.

Before, a payment-processor outage raised beside its health check and failing payments a failing
money journey per platform (critical, payments), and, with the process gone, its probes and its
scrape target, and the payment SLOs' burn alerts: none of them belonged to the processor, so each
opened an incident and paged on its own. A platform service down likewise paged once for its
scrape target, once for its readiness probe, once for its landing pages and once for its journeys.

The rules are the server's (``correlation_rules``); each alert carries the labels its provisioned
rule gives it (severity, priority, service, burn tier) plus those of its expression.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from fanzwatch.alerting import AlertingService
from fanzwatch.alerting.incidents.correlation import Correlator, Member
from fanzwatch.core.models import HOLD_ANNOTATION
from fanzwatch.core.platforms import DEFAULT_PLATFORMS
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.provisioning.definitions.slos import (
    API_AVAILABILITY,
    API_LATENCY,
    CHECKOUT_SUCCESS,
    PAYOUT_ON_TIME,
    PPV_UNLOCK_LATENCY,
    PROBE_AVAILABILITY,
    SUBSCRIPTION_RENEWAL_SUCCESS,
)
from fanzwatch.provisioning.render import build_provisioning
from fanzwatch.provisioning.rules import AlertRule
from fanzwatch.provisioning.slo import SLO
from fanzwatch.server.correlation import META_ALERTS, correlation_rules

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    T0,
    Harness,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    eventually,
    on_call_settings,
    post_alerts,
)

RULES = correlation_rules(DEFAULT_PLATFORMS)
CORRELATOR = Correlator(RULES, window=timedelta(minutes=15), meta_alerts=META_ALERTS)
PROVISIONED = build_provisioning(ProvisioningSettings(probe_platforms=DEFAULT_PLATFORMS[:3])).alert_rules()


def rule_of(name: str, *, severity: str | None = None, expr_has: str = "") -> AlertRule:
    found = [
        r
        for r in PROVISIONED
        if r.name == name and expr_has in r.expr and (severity is None or r.severity.value == severity)
    ]
    assert len(found) == 1, (name, severity, expr_has, [r.expr for r in found])
    return found[0]


def alert(name: str, *, severity: str | None = None, expr_has: str = "", **labels: str) -> dict[str, str]:
    """``name``'s labels as Prometheus sends them: its provisioned rule's own plus its expression's ``labels``."""
    return {"alertname": name, **rule_of(name, severity=severity, expr_has=expr_has).labels(), **labels}


def processor_check() -> dict[str, str]:
    """The platform's health check of the processor (its ``service`` label is templated from ``check``)."""
    return alert(
        "HealthCheckFailing",
        severity="warning",
        service="payments",
        platform="other",
        check="payment_processor_primary",
        job="fanz-platform",
        instance="127.0.0.1:8001",
    )


PROCESSOR_HEALTH = alert(
    "ProbeFailing",
    expr_has="processor-health",
    probe="processor-health",
    job="blackbox-http_2xx",
    instance="http://127.0.0.1:8010/health",
)
PROCESSOR_TCP = alert(
    "ProbeFailing",
    expr_has="processor-tcp",
    probe="processor-tcp",
    job="blackbox-tcp_connect",
    instance="127.0.0.1:8010",
)
PROCESSOR_DOWN = alert("TargetDown", expr_has='"payment-processor"', job="payment-processor", instance="127.0.0.1:8010")
PLATFORM_DOWN = alert("TargetDown", expr_has='"fanz-platform"', job="fanz-platform", instance="127.0.0.1:8001")
PLATFORM_READY = alert(
    "ProbeFailing",
    expr_has="platform-ready",
    probe="platform-ready",
    job="blackbox-http_2xx",
    instance="http://127.0.0.1:8001/health/ready",
)
PROBES_NOT_RUNNING = alert("ProbesNotRunning", job="blackbox-http_2xx")


def pfr(platform: str) -> dict[str, str]:
    return alert("PaymentFailureRate", severity="critical", platform=platform)


def her(platform: str) -> dict[str, str]:
    return alert("HighErrorRate", severity="critical", platform=platform)


def hrt(platform: str) -> dict[str, str]:
    return alert("HighResponseTime", severity="warning", platform=platform)


def journey(platform: str) -> dict[str, str]:
    return alert("JourneyFailing", journey="money", platform=platform)


def page(platform: str) -> dict[str, str]:
    return alert(
        "ProbeFailing",
        expr_has="platform-page",
        probe="platform-page",
        platform=platform,
        job="blackbox-platform_page",
        instance=f"http://127.0.0.1:8001/p/{platform}/",
    )


def burn(slo: SLO, platform: str, tier: str = "SLOErrorBudgetBurnFast") -> dict[str, str]:
    labels = {"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name, "platform": platform}
    return alert(tier, expr_has=f'sloth_id="{slo.id}"', **labels)


def name_of(labels: dict[str, str]) -> str:
    extra = labels.get("probe") or labels.get("sloth_id") or labels.get("job") or labels.get("check") or ""
    return f"{labels['alertname']}{{{extra}}}@{labels.get('platform', '')}"


PROCESSOR_ALERTS = [processor_check(), PROCESSOR_HEALTH, PROCESSOR_TCP, PROCESSOR_DOWN]
PROCESSOR_SYMPTOMS = [
    pfr("fanz-1"),
    her("fanz-2"),
    journey("fanz-3"),
    burn(CHECKOUT_SUCCESS, "fanz-1"),
    burn(SUBSCRIPTION_RENEWAL_SUCCESS, "fanz-2"),
    burn(PPV_UNLOCK_LATENCY, "fanz-3"),
]
NOT_PROCESSOR = [
    burn(PAYOUT_ON_TIME, "fanz-1"),  # creator payouts are not paid through the processor
    burn(API_AVAILABILITY, "fanz-1"),  # the platform's SLO
    page("fanz-1"),
    PLATFORM_DOWN,
    PROBES_NOT_RUNNING,  # the blackbox exporter's problem
    hrt("fanz-1"),
    pfr("other"),  # not a platform the processor serves
]
PLATFORM_ALERTS = [PLATFORM_DOWN, PLATFORM_READY]
PLATFORM_SYMPTOMS = [
    page("fanz-1"),
    journey("fanz-2"),
    her("fanz-3"),
    burn(API_AVAILABILITY, "fanz-1"),
    burn(API_LATENCY, "fanz-2"),
    burn(PROBE_AVAILABILITY, "fanz-3"),
]
NOT_PLATFORM = [pfr("fanz-1"), burn(CHECKOUT_SUCCESS, "fanz-1"), PROCESSOR_TCP, PROBES_NOT_RUNNING, page("other")]


def pairs(
    causes: list[dict[str, str]], others: list[dict[str, str]], joins: bool
) -> list[tuple[dict[str, str], dict[str, str], bool]]:
    return [(c, o, joins) for c in causes for o in others if c is not o]


PAIRS = [
    *pairs(PROCESSOR_ALERTS, PROCESSOR_SYMPTOMS, True),
    *pairs(PROCESSOR_ALERTS, PROCESSOR_ALERTS, True),  # another alert of the failing processor itself
    *pairs(PROCESSOR_ALERTS, NOT_PROCESSOR, False),
    *pairs(PLATFORM_ALERTS, PLATFORM_SYMPTOMS, True),
    *pairs(PLATFORM_ALERTS, PLATFORM_ALERTS, True),
    *pairs(PLATFORM_ALERTS, NOT_PLATFORM, False),
]


@pytest.mark.parametrize(("cause", "other", "joins"), PAIRS, ids=[f"{name_of(c)}+{name_of(o)}" for c, o, _ in PAIRS])
def test_a_dependency_alert_and_its_symptom_are_one_incident_whichever_comes_first(
    cause: dict[str, str], other: dict[str, str], joins: bool
) -> None:
    cause_first = CORRELATOR.joins(Member(other, T0 + timedelta(minutes=1)), [Member(cause, T0)])
    symptom_first = CORRELATOR.joins(Member(cause, T0), [Member(other, T0 + timedelta(minutes=1))])
    assert (cause_first, symptom_first) == (joins, joins)


def test_the_slower_paging_tier_of_a_joined_slo_follows_it_into_the_dependencys_incident() -> None:
    """A 6 h burn begins long after its cause (many minutes of errors first): it joins as the fast tier's twin."""
    incident = [Member(processor_check(), T0), Member(burn(CHECKOUT_SUCCESS, "fanz-1"), T0 + timedelta(minutes=4))]
    later = T0 + timedelta(minutes=25)
    assert CORRELATOR.joins(Member(burn(CHECKOUT_SUCCESS, "fanz-1", "SLOErrorBudgetBurnMedium"), later), incident)
    # Another platform's or another SLO's slow burn, that late, is not this outage's.
    assert not CORRELATOR.joins(Member(burn(CHECKOUT_SUCCESS, "fanz-2", "SLOErrorBudgetBurnMedium"), later), incident)
    assert not CORRELATOR.joins(Member(burn(API_AVAILABILITY, "fanz-1", "SLOErrorBudgetBurnMedium"), later), incident)
    # Outside any dependency too: the fast tier explains the slower paging one of its SLO and platform.
    fast_alone = [Member(burn(API_LATENCY, "fanz-1"), T0)]
    assert CORRELATOR.joins(Member(burn(API_LATENCY, "fanz-1", "SLOErrorBudgetBurnMedium"), later), fast_alone)
    assert not CORRELATOR.joins(Member(burn(API_LATENCY, "fanz-2", "SLOErrorBudgetBurnMedium"), later), fast_alone)


def test_the_ticket_tier_joins_no_outage_so_it_cannot_hold_one_open_for_hours() -> None:
    """1x over 3 d and 6 h keeps firing up to 6 h after the errors stop: a ticket of its own."""
    incident = [Member(processor_check(), T0), Member(burn(CHECKOUT_SUCCESS, "fanz-1"), T0 + timedelta(minutes=1))]
    for began in (T0 + timedelta(minutes=2), T0 + timedelta(minutes=25)):  # as a symptom's timing, and a twin's
        slow = Member(burn(CHECKOUT_SUCCESS, "fanz-1", "SLOErrorBudgetBurnSlow"), began)
        assert not CORRELATOR.joins(slow, incident)
        assert not CORRELATOR.joins(slow, [Member(burn(API_LATENCY, "fanz-1"), T0)])
    # Two ticket burns of one SLO on two platforms are still one ticket (the same alert elsewhere).
    elsewhere = [Member(burn(CHECKOUT_SUCCESS, "fanz-2", "SLOErrorBudgetBurnSlow"), T0)]
    assert CORRELATOR.joins(Member(burn(CHECKOUT_SUCCESS, "fanz-1", "SLOErrorBudgetBurnSlow"), T0), elsewhere)


def test_a_cause_guessed_from_shared_symptoms_gives_way_to_the_dependency_explaining_more() -> None:
    """5xx and failing journeys are the platform's or the processor's: failed payments settle it."""
    guessed = [Member(journey("fanz-1"), T0), Member(her("fanz-1"), T0 + timedelta(seconds=30))]
    cause = CORRELATOR.cause_of([m.labels for m in guessed])
    assert cause is not None and cause.cause == "Platform service"
    payments = Member(pfr("fanz-1"), T0 + timedelta(seconds=40))
    assert CORRELATOR.joins(payments, guessed)
    assert CORRELATOR.title([*(m.labels for m in guessed), payments.labels]) == (
        "Payment processor: JourneyFailing, HighErrorRate, PaymentFailureRate on fanz-1"
    )
    # Once the platform's own alert is there, the cause is known: failed payments are another incident.
    confirmed = [Member(PLATFORM_DOWN, T0), *guessed]
    assert not CORRELATOR.joins(payments, confirmed)
    assert CORRELATOR.title([m.labels for m in confirmed]) == (
        "Platform service: TargetDown, JourneyFailing, HighErrorRate on fanz-1"
    )


@pytest.mark.parametrize("hold", ["99999999999999999999w", "999999999d", "9999999999999ms", "-5m", "abc", "2d", ""])
def test_an_unbelievable_hold_counts_as_none_and_never_fails_a_decision(hold: str) -> None:
    member = Member.of(pfr("fanz-1"), T0, {HOLD_ANNOTATION: hold})
    assert (member.hold, member.began) == (timedelta(0), T0)
    assert CORRELATOR.joins(Member.of(her("fanz-2"), T0, {HOLD_ANNOTATION: hold}), [member])


def test_odd_annotations_and_the_first_instant_are_decided_too() -> None:
    assert Member.of(pfr("fanz-1"), T0, ["hold", "5m"]).hold == timedelta(0)  # not a mapping
    assert Member.of(pfr("fanz-1"), T0, {HOLD_ANNOTATION: 5}).hold == timedelta(0)  # not a string
    first = datetime(1, 1, 1, 0, 0, 30, tzinfo=UTC)
    early = Member.of(pfr("fanz-1"), first, {HOLD_ANNOTATION: "1m"})
    assert early.began == first  # 1 min before year 1 does not exist: as fired
    assert not CORRELATOR.joins(Member(her("fanz-2"), T0), [early])
    cause = Member.of(processor_check(), first, {HOLD_ANNOTATION: "5m"})
    assert not CORRELATOR.joins(Member(pfr("fanz-2"), T0), [cause])  # cause and symptom, an era apart
    assert CORRELATOR.joins(Member(pfr("fanz-2"), first + timedelta(minutes=1)), [cause])


# --- through the webhook, as the alerts arrive ----------------------------------------------------


def webhook_alert(labels: dict[str, str], fired: datetime, *, hold: str | None = None) -> dict[str, Any]:
    """The alert as Alertmanager sends it, with its provisioned rule's hold (production pace)."""
    rules = [
        r.to_dict(runbook_base_url="http://rb")
        for r in PROVISIONED
        if r.name == labels["alertname"]
        and r.severity.value == labels["severity"]
        and all(labels.get(k) == v for k, v in r.extra_labels.items())
    ]
    assert len({r["for"] for r in rules}) == 1, (labels, rules)
    annotations = dict(rules[0]["annotations"])
    if hold is not None:
        annotations[HOLD_ANNOTATION] = hold
    name = labels["alertname"]
    fields = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
    return am_alert(name, severity=labels["severity"], starts_at=fired, annotations=annotations, **fields)


async def deliver(svc: AlertingService, c: httpx.AsyncClient, *alerts: dict[str, Any]) -> None:
    for one in alerts:
        assert (await post_alerts(c, am_payload(one))).status_code == 202
        await svc.tick()


async def incidents(c: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await c.get("/api/v1/incidents")).json()["incidents"]
    return [(await c.get(f"/api/v1/incidents/{i['id']}")).json() for i in listed]


async def test_a_processor_outage_whose_journeys_and_slo_burn_fire_before_its_cause_pages_once(
    harness: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """The processor's primary fails at T0. The journeys fail at their next round (T0 + 40-45 s) and fire after
    their 1 min hold; the checkout SLO's 1 h window burns 14.4x after about 4 min of failures and fires 2 min
    later; the platform's health check of the processor fails at its next run (T0 + 90 s) and, non-critical,
    fires after its 5 min hold: last. The 6 h burn fires long after, as the fast one's twin."""
    svc = harness.service(
        on_call_settings(slack, pagerduty, correlation_window="15m"), explains=RULES, meta_alerts=META_ALERTS
    )
    arrivals = [
        webhook_alert(journey("fanz-1"), T0 + timedelta(seconds=100)),
        webhook_alert(journey("fanz-2"), T0 + timedelta(seconds=105)),
        webhook_alert(burn(CHECKOUT_SUCCESS, "fanz-1"), T0 + timedelta(minutes=6, seconds=20)),
        webhook_alert(processor_check(), T0 + timedelta(minutes=6, seconds=30)),
        webhook_alert(burn(CHECKOUT_SUCCESS, "fanz-1", "SLOErrorBudgetBurnMedium"), T0 + timedelta(minutes=20)),
    ]
    async with api_client(svc) as c:
        await deliver(svc, c, *arrivals)
        found = await incidents(c)
        await eventually("the page", lambda: pagerduty.events() == [("trigger", "fanzwatch-incident-1")])
    assert [(i["title"], i["priority"]) for i in found] == [
        ("Payment processor: 4 alerts on fanz-1, fanz-2, other", "P0")
    ]
    assert [a["labels"]["alertname"] for a in found[0]["alerts"]] == [
        "JourneyFailing",
        "JourneyFailing",
        "SLOErrorBudgetBurnFast",
        "HealthCheckFailing",
        "SLOErrorBudgetBurnMedium",
    ]


async def test_a_platform_service_down_is_one_incident_whatever_fires_first(harness: Harness) -> None:
    """The process serving every platform stops: journeys and landing pages fail on each, then its scrape target
    and readiness probe go down. Before, four incidents (journeys, pages, target, readiness), four pages."""
    svc = harness.service(base_settings(correlation_window="15m"), explains=RULES, meta_alerts=META_ALERTS)
    arrivals = [  # as they fire: the scrape and probes fail within 15 s of T0, the journeys at their next round
        webhook_alert(journey("fanz-1"), T0 + timedelta(seconds=70)),
        webhook_alert(journey("fanz-2"), T0 + timedelta(seconds=75)),
        webhook_alert(PLATFORM_DOWN, T0 + timedelta(seconds=76)),
        webhook_alert(page("fanz-1"), T0 + timedelta(seconds=130)),
        webhook_alert(page("fanz-2"), T0 + timedelta(seconds=131)),
        webhook_alert(PLATFORM_READY, T0 + timedelta(seconds=135)),
        webhook_alert(burn(PROBE_AVAILABILITY, "fanz-1"), T0 + timedelta(minutes=3)),
    ]
    async with api_client(svc) as c:
        await deliver(svc, c, *arrivals)
        found = await incidents(c)
    assert [(i["title"], i["platforms"], len(i["alerts"])) for i in found] == [
        ("Platform service: 4 alerts on fanz-1, fanz-2", ["fanz-1", "fanz-2"], 7)
    ]


async def test_a_poisoned_hold_in_an_incident_never_stops_later_alerts_from_correlating(harness: Harness) -> None:
    """An alert joining its group's incident is stored as it came; its hold is read by every later decision."""
    svc = harness.service(base_settings(correlation_window="15m"), explains=RULES, meta_alerts=META_ALERTS)
    async with api_client(svc) as c:
        await deliver(
            svc,
            c,
            webhook_alert(pfr("fanz-1"), T0),
            webhook_alert({**pfr("fanz-1"), "instance": "b"}, T0, hold="99999999999999999999w"),  # its group's
            webhook_alert({**pfr("fanz-1"), "instance": "c"}, T0, hold="999999999d"),
            webhook_alert(her("fanz-2"), T0 + timedelta(minutes=1)),  # used to fail in Member.of, until max_age
        )
        found = await incidents(c)
    assert [(i["title"], len(i["alerts"])) for i in found] == [
        ("Payment processor: PaymentFailureRate, HighErrorRate on fanz-1, fanz-2", 4)
    ]
