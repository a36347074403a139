"""Infrastructure alerts: disk space via node_exporter (the guide's 7) and target down.

The guide's disk alert queried node_exporter metrics in a stack without node_exporter;
the stack now scrapes it (job ``node``). Read-only and pseudo filesystems are left out
by the recorded ratio. ``TargetDown`` is one rule per owning service and severity, so each
job's outage reaches the team that owns it with the severity it deserves (the payment
processor pages payments; a node_exporter gap only warns infrastructure).
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ...core.catalog import recording as rec
from ..rules import AlertRule, RuleGroup, owner_routed_alerts
from ..scrape import ScrapeJob
from .jobs import JOBS

DISK_AVAILABLE_WARNING = 0.20
DISK_AVAILABLE_CRITICAL = 0.10


def _disk(severity: Severity, threshold: float, hold: timedelta) -> AlertRule:
    return AlertRule(
        name="LowDiskSpace",
        expr=f"{rec.FILESYSTEM_AVAILABLE.name} < {threshold}",
        hold=hold,
        severity=severity,
        service="infrastructure",
        summary=f"Less than {threshold:.0%} disk space left on {{{{ $labels.instance }}}} {{{{ $labels.mountpoint }}}}",
        description=(
            "{{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} has "
            "{{ $value | humanizePercentage }} of its space available."
        ),
    )


def target_down(jobs: tuple[ScrapeJob, ...]) -> tuple[AlertRule, ...]:
    """``up == 0``, one rule per (service, severity) of the jobs, in the jobs' order."""

    def rule(selector: str, service: str, severity: Severity) -> AlertRule:
        return AlertRule(
            name="TargetDown",
            expr=f"up{{{selector}}} == 0",
            hold=timedelta(minutes=1),
            severity=severity,
            service=service,
            summary="Scrape target {{ $labels.job }} at {{ $labels.instance }} is down",
            description=(
                "Prometheus could not scrape {{ $labels.job }} at {{ $labels.instance }} for over a minute: "
                "the process is down, unreachable or not answering /metrics."
            ),
        )

    return owner_routed_alerts(((j.name, j.service, j.severity_when_down) for j in jobs), label="job", build=rule)


INFRA_ALERTS = (
    _disk(Severity.CRITICAL, DISK_AVAILABLE_CRITICAL, timedelta(minutes=5)),
    _disk(Severity.WARNING, DISK_AVAILABLE_WARNING, timedelta(minutes=15)),
    *target_down(JOBS),
)

INFRASTRUCTURE = RuleGroup("fanzwatch.infrastructure", "infrastructure", INFRA_ALERTS)
