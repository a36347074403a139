"""Reports as ``application/health+json`` (draft-inadarei-api-health-check).

The draft's ``checks`` object is keyed ``component:measurement`` and holds a list of
observations; each of ours has ``componentType``, ``observedValue``, ``observedUnit``,
``status``, ``time`` and, when not passing, ``output``. Two extension fields, which the
draft allows: ``critical`` (whether a failure fails the service) and ``details`` (the
rest of what the check measured, e.g. pool statistics).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..core.models import HealthStatus
from ._check import CheckReport, HealthReport

HEALTH_JSON = "application/health+json"


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as in the draft's examples."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def render_check(report: CheckReport) -> dict[str, Any]:
    """One observation of the draft's ``checks`` object."""
    result = report.result
    entry: dict[str, Any] = {"componentType": report.component_type}
    if result.observed_value is not None:
        value = result.observed_value
        entry["observedValue"] = round(value, 6) if isinstance(value, float) else value
    if result.observed_unit is not None:
        entry["observedUnit"] = result.observed_unit
    entry["status"] = result.status.value
    entry["time"] = format_time(report.time)
    if result.output and result.status is not HealthStatus.PASS:
        entry["output"] = result.output
    entry["critical"] = report.critical
    if result.details:
        entry["details"] = dict(result.details)
    return entry


def render_health(
    report: HealthReport,
    *,
    status: HealthStatus | None = None,
    service_id: str | None = None,
    version: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """The whole ``application/health+json`` document for a report."""
    body: dict[str, Any] = {"status": (status or report.status).value}
    if version is not None:
        body["version"] = version
    if service_id is not None:
        body["serviceId"] = service_id
    if description is not None:
        body["description"] = description
    if report.checks:
        body["checks"] = {f"{c.name}:{c.measurement}": [render_check(c)] for c in report.checks}
    return body


def http_status(status: HealthStatus) -> int:
    """200 for pass and warn, 503 for fail (what probes and load balancers act on)."""
    return 503 if status is HealthStatus.FAIL else 200
