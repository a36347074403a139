"""Synthetic-probe alerts: a probe failing, a TLS certificate about to expire.

``ProbeFailing`` is one rule per (service, severity) of the probe kinds, like
``TargetDown``: a payment processor that refuses connections pages payments, a configured
URL that fails only warns. A probe must fail for two minutes (a blip of one probe is not
an outage; the probe SLO counts it anyway). ``TLSCertificateExpiringSoon`` warns 14 days
before a probed certificate expires: time to renew without a weekend emergency.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import probes as cat
from ..blackbox import ProbeKind
from ..rules import AlertRule, RuleGroup
from .probes import PROBE_KINDS

TLS_EXPIRY_WARNING_DAYS = 14


def probe_failing(kinds: tuple[ProbeKind, ...]) -> tuple[AlertRule, ...]:
    """``probe_success == 0`` for 2 minutes, one rule per (service, severity) of ``kinds``."""
    owners: dict[tuple[str, Severity], list[str]] = {}
    for kind in kinds:
        owners.setdefault((kind.service, kind.severity), []).append(kind.name)
    rules = []
    for (service, severity), names in owners.items():
        selector = f'probe="{names[0]}"' if len(names) == 1 else f'probe=~"{"|".join(names)}"'
        rules.append(
            AlertRule(
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
        )
    return tuple(rules)


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

PROBES = RuleGroup("fanzwatch.probes", "probes", (*probe_failing(PROBE_KINDS), TLS_EXPIRY))
