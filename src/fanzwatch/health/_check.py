"""What a health check is: the ``HealthCheck`` protocol and the ``CheckResult`` it returns.

A check answers one question about one component ("does the platform database answer
a round trip, and how fast?"). The runner gives it a timeout, runs it concurrently with
the others, caches the answer and turns it into metrics and ``application/health+json``;
the check itself only observes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeAlias, runtime_checkable

from ..core.errors import ConfigError
from ..core.models import HealthStatus

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]

# A check's name is a metric label value and a URL path segment: keep it small and plain.
CHECK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class ComponentType:
    """``componentType`` values of the IETF health-check draft."""

    COMPONENT = "component"
    DATASTORE = "datastore"
    SYSTEM = "system"


def validate_check_name(name: str) -> str:
    """Return ``name`` if it can be a check name, else raise ``ConfigError`` saying why."""
    if not CHECK_NAME.match(name):
        raise ConfigError(
            f"invalid health check name {name!r}: use lowercase letters, digits and '_', "
            "starting with a letter, at most 63 characters",
            setting="health.checks.name",
        )
    return name


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What one run of a check observed.

    ``observed_value``/``observed_unit`` are the draft's ``observedValue``/``observedUnit``
    (seconds for response times, a 0-1 ratio for utilization); ``output`` says in words
    what is wrong (empty on a pass); ``details`` carries the rest of what was measured
    (pool statistics, memory figures) as JSON values.

    >>> CheckResult.failed("connection refused").status
    <HealthStatus.FAIL: 'fail'>
    """

    status: HealthStatus
    observed_value: float | int | str | None = None
    observed_unit: str | None = None
    output: str = ""
    details: Mapping[str, JsonValue] = field(default_factory=dict)

    @classmethod
    def failed(cls, output: str, **details: JsonValue) -> CheckResult:
        """A failing result with an explanation."""
        return cls(HealthStatus.FAIL, output=output, details=details)


@runtime_checkable
class HealthCheck(Protocol):
    """The extension point: anything that can tell whether one component is healthy.

    ``check()`` must not block the event loop (blocking work goes to a thread) and should
    raise or return a failed result quickly when the component is down; the runner
    enforces ``timeout`` anyway (``None`` means the runner's default). ``aclose()``
    releases what the check opened (engines, clients); the runner calls it on ``stop()``.

    >>> class Always:
    ...     name, component_type, measurement, critical, timeout = "ok", "component", "status", True, None
    ...     async def check(self) -> CheckResult: return CheckResult(HealthStatus.PASS)
    ...     async def aclose(self) -> None: pass
    """

    @property
    def name(self) -> str:
        """Unique among the runner's checks; the ``check`` label and the URL segment."""
        ...

    @property
    def component_type(self) -> str:
        """``component``, ``datastore`` or ``system`` (see ``ComponentType``)."""
        ...

    @property
    def measurement(self) -> str:
        """What ``observed_value`` measures, e.g. ``responseTime``; the key is ``name:measurement``."""
        ...

    @property
    def critical(self) -> bool:
        """True: a failure fails the service and readiness. False: it only makes the service ``warn``."""
        ...

    @property
    def timeout(self) -> float | None:
        """Seconds one run may take; ``None`` for the runner's default."""
        ...

    async def check(self) -> CheckResult:
        """Observe the component once."""
        ...

    async def aclose(self) -> None:
        """Release resources the check owns."""
        ...


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A check's result as the runner recorded it: when, how long, and in which role."""

    name: str
    component_type: str
    measurement: str
    critical: bool
    result: CheckResult
    time: datetime
    duration: float

    @property
    def status(self) -> HealthStatus:
        """The check's own status."""
        return self.result.status

    @property
    def contribution(self) -> HealthStatus:
        """What the check does to the whole: a non-critical failure only warns."""
        if not self.critical and self.result.status is HealthStatus.FAIL:
            return HealthStatus.WARN
        return self.result.status


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The results of several checks and the overall status they make."""

    checks: tuple[CheckReport, ...]

    @property
    def status(self) -> HealthStatus:
        return HealthStatus.worst([c.contribution for c in self.checks])
