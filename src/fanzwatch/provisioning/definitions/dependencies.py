"""What a failing dependency explains: the symptom alerts it causes on the platforms using it.

The dependency-level counterpart of ``routing.inhibit_rules`` (which says a critical
alert explains its own warning). The fanzwatch server correlates with both (composed in
``fanzwatch.server``): while a dependency's alert fires, its symptoms join that
incident; symptoms of one dependency firing together on its platforms are one incident
whose probable cause is the dependency. They are **not** rendered as Alertmanager
``inhibit_rules``: inhibition would hide the symptoms from the server too, and the
incident should list every affected platform and service.

A dependency's own alerts and its symptoms are each **any of several matcher sets**
(``AnyOf``): the processor fails as a health check, a probe or a scrape target; it shows
as failed payments, 5xx, a failing money journey and burning payment SLOs.

- The **payment processor** is shared by every platform (``equal=()``).
- The **platform service** is one process serving every platform (its scrape target and
  readiness probe carry no ``platform``), so ``equal=()`` too: its landing-page probes, money
  journeys, 5xx and API/probe SLO burns on each platform are its symptoms. (With
  ``equal=("platform",)`` its own alerts, platform-less, would explain nothing.)
- Each platform has its own **database** (``equal=("platform",)``).

SLO burn alerts of the paging tiers are symptoms like the threshold alerts on the same SLI;
only the fast tier usually begins within ``symptom_window`` of a cause (a burn over 1 h
needs minutes of errors), and the slower paging tiers of the same SLO and platform join it
as its twins (``routing.slo_tier_twins``). The ticket tier (1× over 3 d and 6 h) joins no
outage: it keeps firing up to 6 h after the errors stop, and would hold the incident open
that long; it opens a P1 incident of its own once the faster tiers stop muting it.
A symptom joins its dependency's incident only when it starts close after the
dependency's alert (the alerting settings ``symptom_lead`` and ``symptom_window``; docs/alerting.md, "Correlation").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ..alertmanager import Matcher, eq
from ..blackbox import ProbeKind
from ..scrape import ScrapeJob
from ..slo import SLO
from .alerts_health import CHECK_SERVICES
from .jobs import PAYMENT_PROCESSOR, PLATFORM
from .probes import PLATFORM_PAGE_PROBE, PLATFORM_READY_PROBE, PROCESSOR_HEALTH_PROBE, PROCESSOR_TCP_PROBE
from .slos import (
    API_AVAILABILITY,
    API_LATENCY,
    CHECKOUT_SUCCESS,
    PPV_UNLOCK_LATENCY,
    PROBE_AVAILABILITY,
    SUBSCRIPTION_RENEWAL_SUCCESS,
)

AnyOf: TypeAlias = tuple[tuple[Matcher, ...], ...]
"""Alerts matching every matcher of at least one of the sets (alerting's ``AnyOf``, converted by the server)."""


@dataclass(frozen=True, slots=True)
class Dependency:
    """``alerts`` are the dependency's own (it is failing); ``symptoms`` those it explains,
    on alerts that agree with it on every label in ``equal`` and fire on a platform it
    ``serves`` (None: every configured platform; never ``other`` nor an alert without one).
    Each is any of several matcher sets."""

    name: str
    alerts: AnyOf
    symptoms: AnyOf
    equal: tuple[str, ...] = ()
    serves: tuple[str, ...] | None = None


def _one_of(label: str, values: tuple[str, ...]) -> Matcher:
    return eq(label, values[0]) if len(values) == 1 else Matcher(label, "=~", "|".join(values))


def _health_of(check_pattern: str) -> tuple[Matcher, ...]:
    return (_one_of("alertname", ("HealthCheckFailing", "HealthCheckDegraded")), Matcher("check", "=~", check_pattern))


def _probes(*kinds: ProbeKind) -> tuple[Matcher, ...]:
    return (eq("alertname", "ProbeFailing"), _one_of("probe", tuple(k.name for k in kinds)))


def _down(job: ScrapeJob) -> tuple[Matcher, ...]:
    return (eq("alertname", "TargetDown"), eq("job", job.name))


def _alerts(*names: str) -> tuple[Matcher, ...]:
    return (_one_of("alertname", names),)


def _burning(*slos: SLO) -> tuple[Matcher, ...]:
    """The paging burn-rate tiers of ``slos`` (a ticket tier is no outage's symptom: ``BurnRateTier.pages``)."""
    paging = tuple(dict.fromkeys(t.alert for s in slos for t in s.tiers if t.pages))
    return (_one_of("alertname", paging), _one_of("sloth_id", tuple(s.id for s in slos)))


_PAYMENT_CHECKS = next(pattern for pattern, service in CHECK_SERVICES if service == "payments").lstrip("^") + ".*"

DEPENDENCIES: tuple[Dependency, ...] = (
    # First declared wins a tie between guesses: 5xx with failing journeys and nothing else is the
    # platform's; with failed payments the processor explains more and takes the incident.
    Dependency(
        name="Platform service",
        alerts=(_probes(PLATFORM_READY_PROBE), _down(PLATFORM)),
        symptoms=(
            _probes(PLATFORM_PAGE_PROBE),
            _alerts("HighErrorRate", "JourneyFailing"),
            _burning(API_AVAILABILITY, API_LATENCY, PROBE_AVAILABILITY),
        ),
    ),
    Dependency(
        name="Payment processor",
        alerts=(
            _health_of(_PAYMENT_CHECKS),
            _probes(PROCESSOR_HEALTH_PROBE, PROCESSOR_TCP_PROBE),
            _down(PAYMENT_PROCESSOR),
        ),
        symptoms=(
            _alerts("PaymentFailureRate", "HighErrorRate", "JourneyFailing"),
            _burning(CHECKOUT_SUCCESS, SUBSCRIPTION_RENEWAL_SUCCESS, PPV_UNLOCK_LATENCY),
        ),
    ),
    Dependency(
        name="Database",
        alerts=((eq("service", "database"),),),
        symptoms=(_alerts("HighErrorRate", "HighResponseTime"),),
        equal=("platform",),
    ),
)
