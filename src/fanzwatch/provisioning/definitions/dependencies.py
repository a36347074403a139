"""What a failing dependency explains: the symptom alerts it causes on the platforms using it.

The dependency-level counterpart of ``routing.inhibit_rules`` (which says a critical
alert explains its own warning). The fanzwatch server correlates with both (composed in
``fanzwatch.server``): while a dependency's alert fires, its symptoms join that
incident; symptoms of one dependency firing together on its platforms are one incident
whose probable cause is the dependency. They are **not** rendered as Alertmanager
``inhibit_rules``: inhibition would hide the symptoms from the server too, and the
incident should list every affected platform and service.

The payment processor is shared by every platform (``equal=()``); each platform has
its own database (``equal=("platform",)``). A symptom joins its dependency's incident
only when it starts close after the dependency's alert (the alerting settings
``symptom_lead`` and ``symptom_window``; docs/alerting.md, "Correlation").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..alertmanager import Matcher, eq
from .alerts_health import CHECK_SERVICES


@dataclass(frozen=True, slots=True)
class Dependency:
    """``alerts`` are the dependency's own (it is failing); ``symptoms`` those it explains,
    on alerts that agree with it on every label in ``equal`` and fire on a platform it
    ``serves`` (None: every configured platform; never ``other`` nor an alert without one)."""

    name: str
    alerts: tuple[Matcher, ...]
    symptoms: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()
    serves: tuple[str, ...] | None = None


def _health_of(check_pattern: str) -> tuple[Matcher, ...]:
    return (Matcher("alertname", "=~", "HealthCheckFailing|HealthCheckDegraded"), Matcher("check", "=~", check_pattern))


_PAYMENT_CHECKS = next(pattern for pattern, service in CHECK_SERVICES if service == "payments").lstrip("^") + ".*"

DEPENDENCIES: tuple[Dependency, ...] = (
    Dependency(
        name="Payment processor",
        alerts=_health_of(_PAYMENT_CHECKS),
        symptoms=(Matcher("alertname", "=~", "PaymentFailureRate|HighErrorRate"),),
    ),
    Dependency(
        name="Database",
        alerts=(eq("service", "database"),),
        symptoms=(Matcher("alertname", "=~", "HighErrorRate|HighResponseTime"),),
        equal=("platform",),
    ),
)
