"""Domain models shared by the feature packages (they meet here, never in each other)."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

HOLD_ANNOTATION = "hold"
"""The annotation on every provisioned alert holding its rule's ``for:`` (Prometheus syntax, as scaled).

Prometheus sends an alert's ``startsAt`` when it *fired*, after the hold; correlation
subtracts the hold to compare when problems *began* (a 5-minute-hold cause fires minutes
after its 1-minute-hold symptoms)."""

_PROM_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_PROM_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
MAX_HOLD = timedelta(days=1)
"""The longest hold believed: annotations come from any alert source (Alertmanager's API is open
to whoever reaches it), and no rule waits a day before firing (the provisioned ones hold at most 1 h)."""
_MAX_HOLD_MS = MAX_HOLD // timedelta(milliseconds=1)


def parse_hold(text: str | None) -> timedelta:
    """``"1h30m"`` → 90 minutes; zero for a missing, malformed or unbelievable value (an alert without a
    known hold): anything longer than :data:`MAX_HOLD` (``"999999999d"`` would date the alert's start
    before year 1), a negative or a unit-less number, years. Never raises."""
    if not text or len(text) > 32:
        return timedelta(0)
    parts = _PROM_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text or any(u == "y" for _, u in parts):
        return timedelta(0)
    total_ms = sum(int(n) * _PROM_UNIT_MS[u] for n, u in parts)  # an int: no overflow before the bound
    return timedelta(milliseconds=total_ms) if total_ms <= _MAX_HOLD_MS else timedelta(0)


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

    @staticmethod
    def highest(*priorities: Priority) -> Priority:
        """The most urgent of several priorities (P0 before P1 before P2)."""
        return min(priorities, key=lambda p: _URGENCY[p])

    def raised(self) -> Priority:
        """One step more urgent (P0 stays P0)."""
        return {Priority.P2: Priority.P1, Priority.P1: Priority.P0}.get(self, Priority.P0)


_URGENCY = {Priority.P0: 0, Priority.P1: 1, Priority.P2: 2}
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
