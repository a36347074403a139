"""An alert's incident priority: from its labels, raised when the business impact says so.

The ``priority`` label wins when valid (alert rules derive it from severity), else the
``severity`` maps to P0/P1/P2, else the configured default. Then every matching impact
rule may raise it: to its ``priority`` if given, else one step (``Priority.raised``).
An incident's priority is the highest of its alerts'.

>>> policy = PriorityPolicy(settings)
>>> policy.assess({"alertname": "PaymentFailureRate", "severity": "warning", "service": "payments"})
Assessment(priority=<Priority.P0: 'P0'>, base=<Priority.P1: 'P1'>, reasons=('payments are affected',))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..core.models import Priority, Severity
from ..settings.alerting import AlertingSettings
from .matchers import LabelMatcher, compile_matchers, match_all


def highest(*priorities: Priority) -> Priority:
    """The most urgent of several priorities (``Priority.highest``)."""
    return Priority.highest(*priorities)


@dataclass(frozen=True, slots=True)
class Assessment:
    priority: Priority
    base: Priority
    reasons: tuple[str, ...]


class PriorityPolicy:
    """Turns alert labels into a priority, with the reasons it was raised."""

    def __init__(self, settings: AlertingSettings) -> None:
        self._default = settings.default_priority
        self._rules: tuple[tuple[str, tuple[LabelMatcher, ...], Priority | None], ...] = tuple(
            (r.name, compile_matchers(r.matchers), r.priority) for r in settings.impact_rules
        )

    def base(self, labels: Mapping[str, str]) -> Priority:
        if labels.get("priority") in Priority.__members__:
            return Priority(labels["priority"])
        severity = labels.get("severity", "")
        if severity in {s.value for s in Severity}:
            return Severity(severity).priority
        return self._default

    def assess(self, labels: Mapping[str, str]) -> Assessment:
        base = self.base(labels)
        priority, reasons = base, []
        for name, matchers, target in self._rules:
            if match_all(matchers, labels):
                raised = highest(priority, target) if target is not None else priority.raised()
                if raised != priority:
                    priority = raised
                    reasons.append(name)
        return Assessment(priority, base, tuple(reasons))
