"""Health-check alerts over ``fanz_health_check_status`` (a pass/warn/fail state set).

One rule per outcome covers every check, current and future: a failing check whose
failure fails readiness (``fanz_health_check_critical == 1``) pages; a failing
non-critical check, or one stuck in ``warn``, warns. The ``service`` label is derived
from the check's name so a failing payment-processor check reaches the payments team.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import Severity
from ..rules import AlertRule, RuleGroup

CHECK_SERVICES: tuple[tuple[str, str], ...] = (
    ("^payment", "payments"),
    ("^(database|db|postgres|sql)", "database"),
    ("^(redis|cache|file_storage|object_storage|storage|memory|disk)", "infrastructure"),
)
"""Check-name pattern (Go regexp, first match wins) → owning service.

Covers the guide's names (``payment_processor``, ``database``, ``redis``,
``file_storage``, ``memory``, ``disk_space``) and the demo's
(``payment_processor_primary``, ``object_storage``, ...). Any other check belongs to
``fanz-platform``.
"""
DEFAULT_CHECK_SERVICE = "fanz-platform"


def check_service_template() -> str:
    """A Prometheus label template choosing ``service`` from ``$labels.check``."""
    branches = "".join(
        f'{{{{ {"if" if i == 0 else "else if"} match "{pattern}" $labels.check }}}}{service}'
        for i, (pattern, service) in enumerate(CHECK_SERVICES)
    )
    return f"{branches}{{{{ else }}}}{DEFAULT_CHECK_SERVICE}{{{{ end }}}}"


_FAILING = 'max without (status) (fanz_health_check_status{status="fail"}) == 1'
_WHERE = "{{ $labels.check }} on {{ $labels.platform }} ({{ $labels.job }} at {{ $labels.instance }})"

HEALTH_ALERTS = (
    AlertRule(
        name="HealthCheckFailing",
        expr=f"{_FAILING}\nand fanz_health_check_critical == 1",
        hold=timedelta(minutes=1),
        severity=Severity.CRITICAL,
        service=check_service_template(),
        summary="Critical health check {{ $labels.check }} failing on {{ $labels.platform }}",
        description=f"Health check {_WHERE} has failed for over a minute; the service reports itself not ready.",
    ),
    AlertRule(
        name="HealthCheckFailing",
        expr=f"{_FAILING}\nand fanz_health_check_critical == 0",
        hold=timedelta(minutes=5),
        severity=Severity.WARNING,
        service=check_service_template(),
        summary="Health check {{ $labels.check }} failing on {{ $labels.platform }}",
        description=f"Non-critical health check {_WHERE} has failed for 5 minutes; the service still serves.",
    ),
    AlertRule(
        name="HealthCheckDegraded",
        expr='max without (status) (fanz_health_check_status{status="warn"}) == 1',
        hold=timedelta(minutes=10),
        severity=Severity.WARNING,
        service=check_service_template(),
        summary="Health check {{ $labels.check }} degraded on {{ $labels.platform }}",
        description=f"Health check {_WHERE} has reported warn for 10 minutes.",
    ),
)

HEALTH = RuleGroup("fanzwatch.health", "health", HEALTH_ALERTS)
