"""Each platform's own dependency checks, read back from Prometheus.

Every FANZ service runs ``fanzwatch.health`` and exports its checks as
``fanz_health_check_status`` (a pass/warn/fail state set), ``fanz_health_check_critical``
and ``fanz_health_check_last_success_timestamp_seconds``; Prometheus scrapes them. So the
Health page shows what each platform sees (its database, object store, the payment
processor's *primary* endpoint), not only the fanzwatch server's own checks, and a
payment outage on a platform shows as that platform's failing check.

Checks are grouped by the service that ran them: its ``platform`` label, or, for a
service shared by several tenants (``platform="other"``), its job and instance. A target
Prometheus cannot scrape (``up == 0``) is listed too: its checks are unknown, not passing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ...core.catalog.health import HEALTH_CHECK_CRITICAL, HEALTH_CHECK_LAST_SUCCESS, HEALTH_CHECK_STATUS
from ...core.platforms import OTHER_PLATFORM
from .sources import PrometheusSource, Series

SERVER_JOB = "fanzwatch"  # the server's own checks come from its runner, shown beside these
_ORDER = {"fail": 0, "warn": 1, "unknown": 2, "pass": 3}


@dataclass(frozen=True, slots=True)
class PlatformCheck:
    name: str
    status: str  # pass, warn or fail
    critical: bool
    last_success: float | None


@dataclass
class ServiceHealth:
    """The checks one scraped service reported, and what they add up to."""

    platform: str
    job: str
    instance: str
    checks: list[PlatformCheck] = field(default_factory=list)
    scraped: bool = True

    @property
    def title(self) -> str:
        if self.platform != OTHER_PLATFORM:
            return self.platform
        return f"{self.job} (shared by its platforms)"

    @property
    def status(self) -> str:
        """fail when a critical check fails, warn for any other failure or warning, as readiness does."""
        if not self.scraped:
            return "unknown"
        if any(c.status == "fail" and c.critical for c in self.checks):
            return "fail"
        if any(c.status != "pass" for c in self.checks):
            return "warn"
        return "pass"

    @property
    def failing(self) -> list[PlatformCheck]:
        return [c for c in self.checks if c.status != "pass"]


def _key(labels: dict[str, str] | object) -> tuple[str, str, str]:
    assert isinstance(labels, dict)
    return (labels.get("platform", OTHER_PLATFORM), labels.get("job", ""), labels.get("instance", ""))


async def _instant(prom: PrometheusSource, expr: str, at: float) -> list[Series]:
    return await prom.query_range(expr, start=at, end=at, step=60)


async def platform_health(prom: PrometheusSource, *, now: float, platform: str | None = None) -> list[ServiceHealth]:
    """Every service's checks as Prometheus last scraped them, failing services first."""
    only = f',platform=~"{platform}|{OTHER_PLATFORM}"' if platform else ""
    where = f'job!="{SERVER_JOB}"{only}'
    status, critical, success, down = await asyncio.gather(
        _instant(prom, f"{HEALTH_CHECK_STATUS.name}{{{where}}} == 1", now),
        _instant(prom, f"{HEALTH_CHECK_CRITICAL.name}{{{where}}}", now),
        _instant(prom, f"{HEALTH_CHECK_LAST_SUCCESS.name}{{{where}}}", now),
        _instant(prom, f'up{{job!="{SERVER_JOB}"}} == 0', now),
    )
    critical_of = {(*_key(dict(s.labels)), s.labels.get("check", "")): s.last() == 1 for s in critical}
    success_of = {(*_key(dict(s.labels)), s.labels.get("check", "")): s.last() for s in success}
    services: dict[tuple[str, str, str], ServiceHealth] = {}
    for s in status:
        labels = dict(s.labels)
        key = _key(labels)
        check = labels.get("check", "")
        found = services.setdefault(key, ServiceHealth(*key))
        found.checks.append(
            PlatformCheck(
                check, labels.get("status", "fail"), critical_of.get((*key, check), True), success_of.get((*key, check))
            )
        )
    for s in down:
        labels = dict(s.labels)
        job, instance = labels.get("job", ""), labels.get("instance", "")
        if not any(k[1] == job and k[2] == instance for k in services):
            services[(OTHER_PLATFORM, job, instance)] = ServiceHealth(OTHER_PLATFORM, job, instance, scraped=False)
        else:
            for k, v in services.items():
                if k[1] == job and k[2] == instance:
                    v.scraped = False
    for svc in services.values():
        svc.checks.sort(key=lambda c: (_ORDER.get(c.status, 9), c.name))
    return sorted(services.values(), key=lambda v: (_ORDER.get(v.status, 9), v.title, v.instance))
