"""Synthetic-probe alerts: a probe failing, a TLS certificate about to expire.

``ProbeFailing`` is one rule per (service, severity) of the probe kinds, like
``TargetDown``: a payment processor that refuses connections pages payments, a configured
URL that fails only warns. A probe must fail for two minutes (a blip of one probe is not
an outage; the probe SLO counts it anyway). ``TLSCertificateExpiringSoon`` warns 14 days
before a probed certificate expires: time to renew without a weekend emergency.
``JourneyFailing`` pages when the journey prober's money journey fails on a platform from a
quorum of its locations (N of M: ``JOURNEY_QUORUM``, capped at the locations reporting);
``platform:fanz_journey_quorum_failing:bool`` records the same quorum as 1 or 0 every
evaluation, the events of the journey-availability SLO.
``ProbesNotRunning`` warns when Prometheus cannot scrape blackbox_exporter's ``/probe`` at all:
then no ``probe_success`` sample exists, ``ProbeFailing`` cannot fire and the probe SLO has no
SLI, so a dead exporter would otherwise look like every probe passing.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import probes as cat
from ..blackbox import ProbeKind
from ..rules import AlertRule, RecordingRule, RuleGroup, owner_routed_alerts
from .probes import PROBE_KINDS

TLS_EXPIRY_WARNING_DAYS = 14


def probe_failing(kinds: tuple[ProbeKind, ...]) -> tuple[AlertRule, ...]:
    """``probe_success == 0`` for 2 minutes, one rule per (service, severity) of ``kinds``."""

    def rule(selector: str, service: str, severity: Severity) -> AlertRule:
        return AlertRule(
            name="ProbeFailing",
            expr=f"{cat.PROBE_SUCCESS.name}{{{selector}}} == 0",
            hold=timedelta(minutes=2),
            severity=severity,
            service=service,
            summary="Probe {{ $labels.probe }} of {{ $labels.instance }} is failing",
            description=(
                "blackbox_exporter's {{ $labels.probe }} probe of {{ $labels.instance }} has failed for over "
                "2 minutes (wrong status or body, refused connection, timeout or bad certificate): users see "
                "this outage from outside."
            ),
        )

    return owner_routed_alerts(((k.name, k.service, k.severity) for k in kinds), label="probe", build=rule)


TLS_EXPIRY = AlertRule(
    name="TLSCertificateExpiringSoon",
    expr=f"{cat.PROBE_SSL_EARLIEST_CERT_EXPIRY.name} - time() < {TLS_EXPIRY_WARNING_DAYS} * 86400",
    hold=timedelta(minutes=10),
    severity=Severity.WARNING,
    service="infrastructure",
    summary="The TLS certificate of {{ $labels.instance }} expires in {{ $value | humanizeDuration }}",
    description=(
        f"The first certificate of the chain {{{{ $labels.instance }}}} serves expires in under "
        f"{TLS_EXPIRY_WARNING_DAYS} days ({{{{ $value | humanizeDuration }}}} left). Renew it and check the "
        "renewal job that should have."
    ),
)

JOURNEY_QUORUM = 2
"""Failing locations needed before ``JourneyFailing`` fires (capped at the locations reporting):
one location failing alone is more likely its own network than the platform."""
_JOURNEY_BY = "by (journey, platform)"
_FAILING_LOCATIONS = f"count {_JOURNEY_BY} ({cat.JOURNEY_SUCCESS.name} == 0)"
_QUORUM = f"clamp_max(count {_JOURNEY_BY} ({cat.JOURNEY_SUCCESS.name}), {JOURNEY_QUORUM})"
JOURNEY_QUORUM_FAILING = RecordingRule(
    cat.JOURNEY_QUORUM_FAILING.name,
    f"(\n  {_FAILING_LOCATIONS}\n  or 0 * count {_JOURNEY_BY} ({cat.JOURNEY_SUCCESS.name})\n)\n"
    f">= bool on (journey, platform)\n{_QUORUM}",
)
"""1 while the quorum fails, 0 while it does not, per journey and platform: the journey SLO's events."""
JOURNEY_FAILING = AlertRule(
    name="JourneyFailing",
    expr=f"{_FAILING_LOCATIONS}\n>= on (journey, platform)\n{_QUORUM}",
    hold=timedelta(minutes=1),
    severity=Severity.CRITICAL,
    service="payments",
    summary="The {{ $labels.journey }} journey fails on {{ $labels.platform }} from {{ $value }} probe locations",
    description=(
        "The journey prober's last {{ $labels.journey }} journey (sign in, subscribe, tip, unlock PPV) failed on "
        f"{{{{ $labels.platform }}}} from {{{{ $value }}}} locations for over a minute: a quorum of "
        f"{JOURNEY_QUORUM} locations (or all of them, if fewer report) agrees fans cannot pay. "
        "fanz_journey_step_failures_total says which step."
    ),
)

PROBES_NOT_RUNNING = AlertRule(
    name="ProbesNotRunning",
    # One alert for the exporter, not one per probe: every probe job scrapes the same exporter.
    expr='count by (job) (up{job=~"blackbox-.+"} == 0) > 0',
    hold=timedelta(minutes=2),
    severity=Severity.WARNING,
    service="monitoring",
    summary="{{ $value }} synthetic probes of {{ $labels.job }} are not running",
    description=(
        "Prometheus could not get a result from blackbox_exporter for {{ $value }} probes of {{ $labels.job }} "
        "for over 2 minutes (the exporter is down, unreachable or timing out): those probes report nothing, so "
        "ProbeFailing cannot fire for them and the probe-availability SLO is blind."
    ),
)

PROBES = RuleGroup(
    "fanzwatch.probes",
    "probes",
    (JOURNEY_QUORUM_FAILING, *probe_failing(PROBE_KINDS), TLS_EXPIRY, JOURNEY_FAILING, PROBES_NOT_RUNNING),
)
