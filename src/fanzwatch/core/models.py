"""Domain models shared by the feature packages (they meet here, never in each other)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Severity(StrEnum):
    """Alert severity, as on every alert rule's ``severity`` label."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def priority(self) -> Priority:
        return _SEVERITY_PRIORITY[self]


class Priority(StrEnum):
    """Incident priority with the guide's response targets."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"

    @property
    def response_target(self) -> timedelta:
        """How soon a human must acknowledge: 15 min, 1 h, 4 h."""
        return _RESPONSE_TARGET[self]

    def raised(self) -> Priority:
        """One step more urgent (P0 stays P0)."""
        return {Priority.P2: Priority.P1, Priority.P1: Priority.P0}.get(self, Priority.P0)


_SEVERITY_PRIORITY = {
    Severity.CRITICAL: Priority.P0,
    Severity.WARNING: Priority.P1,
    Severity.INFO: Priority.P2,
}
_RESPONSE_TARGET = {
    Priority.P0: timedelta(minutes=15),
    Priority.P1: timedelta(hours=1),
    Priority.P2: timedelta(hours=4),
}


class HealthStatus(StrEnum):
    """Health of a check or a whole service (IETF health-check draft values)."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @classmethod
    def worst(cls, statuses: list[HealthStatus]) -> HealthStatus:
        """The worst of several statuses; ``pass`` for none."""
        order = [cls.PASS, cls.WARN, cls.FAIL]
        return max(statuses, key=order.index, default=cls.PASS)
