"""Incidents: named faults injected into (and healed from) the running demo services.

Each kind is a change made through a service's admin API, so the system under watch
really misbehaves and the monitoring has to notice by itself:

| kind | what changes | what should fire |
|---|---|---|
| ``payment_outage`` | the processor's primary endpoint answers 503 | payment failure rate |
| ``latency_regression`` | every platform API request takes +0.8 s | p95 latency |
| ``error_burst`` | 30 % of platform API requests answer 500 | 5xx error ratio |
| ``registration_breakage`` | sign-ups answer 500 | registrations drop, 5xx on one route |
| ``traffic_spike`` | the simulator sends 5x its traffic | request rate anomaly |

>>> incidents = IncidentController(IncidentTargets(platform_url=..., processor_url=..., simulator_url=...))
>>> await incidents.inject(IncidentKind.PAYMENT_OUTAGE)
>>> await incidents.heal(IncidentKind.PAYMENT_OUTAGE)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

ADMIN_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


class IncidentKind(StrEnum):
    PAYMENT_OUTAGE = "payment_outage"
    LATENCY_REGRESSION = "latency_regression"
    ERROR_BURST = "error_burst"
    REGISTRATION_BREAKAGE = "registration_breakage"
    TRAFFIC_SPIKE = "traffic_spike"


class IncidentError(Exception):
    """A service did not accept the change (down, or answered an error)."""


@dataclass(frozen=True, slots=True)
class IncidentTargets:
    """Base URLs of the services incidents are injected into."""

    platform_url: str
    processor_url: str
    simulator_url: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentSeverity:
    """How hard each incident hits; the defaults are chosen to trip the default alerts."""

    latency_seconds: float = 0.8
    error_rate: float = 0.3
    spike_multiplier: float = 5.0


class IncidentController:
    """Injects and heals incidents through the services' admin endpoints."""

    def __init__(
        self,
        targets: IncidentTargets,
        *,
        severity: IncidentSeverity | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.targets = targets
        self.severity = severity or IncidentSeverity()
        self._http = http

    async def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async def send(client: httpx.AsyncClient) -> httpx.Response:
            return await client.request(method, url, json=body, timeout=ADMIN_TIMEOUT)

        try:
            if self._http is not None:
                response = await send(self._http)
            else:
                async with httpx.AsyncClient() as client:
                    response = await send(client)
        except httpx.HTTPError as exc:
            raise IncidentError(f"{url} is unreachable ({type(exc).__name__}): is the demo running?") from None
        if not response.is_success:
            raise IncidentError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
        answer: dict[str, Any] = response.json()
        return answer

    def _simulator(self) -> str:
        if self.targets.simulator_url is None:
            raise IncidentError("traffic_spike needs the traffic simulator, which is not running")
        return self.targets.simulator_url

    async def inject(self, kind: IncidentKind) -> dict[str, Any]:
        """Start ``kind``; returns the service's new fault state."""
        t, sev = self.targets, self.severity
        if kind is IncidentKind.PAYMENT_OUTAGE:
            return await self._call("PUT", f"{t.processor_url}/admin/faults/primary", {"outage": True})
        if kind is IncidentKind.LATENCY_REGRESSION:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"latency_seconds": sev.latency_seconds})
        if kind is IncidentKind.ERROR_BURST:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"error_rate": sev.error_rate})
        if kind is IncidentKind.REGISTRATION_BREAKAGE:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"registration_broken": True})
        return await self._call("PUT", f"{self._simulator()}/admin/traffic", {"multiplier": sev.spike_multiplier})

    async def heal(self, kind: IncidentKind) -> dict[str, Any]:
        """End ``kind`` (healing one that is not active is a no-op; a healed payment outage
        also switches the platform back to the primary processor)."""
        t = self.targets
        if kind is IncidentKind.PAYMENT_OUTAGE:
            healed = await self._call("PUT", f"{t.processor_url}/admin/faults/primary", {})
            # Fail back: remediation may have switched the platform to the backup processor,
            # and the next outage of the primary must hurt again.
            await self._call("PUT", f"{t.platform_url}/admin/payment-processor", {"active": "primary"})
            return healed
        if kind is IncidentKind.LATENCY_REGRESSION:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"latency_seconds": 0.0})
        if kind is IncidentKind.ERROR_BURST:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"error_rate": 0.0})
        if kind is IncidentKind.REGISTRATION_BREAKAGE:
            return await self._call("PATCH", f"{t.platform_url}/admin/faults", {"registration_broken": False})
        return await self._call("PUT", f"{self._simulator()}/admin/traffic", {"multiplier": 1.0})

    async def heal_all(self) -> list[str]:
        """Heal every kind, trying each even when one fails; returns what could not be healed."""
        problems: list[str] = []
        for kind in IncidentKind:
            if kind is IncidentKind.TRAFFIC_SPIKE and self.targets.simulator_url is None:
                continue
            try:
                await self.heal(kind)
            except IncidentError as exc:
                problems.append(f"{kind.value}: {exc}")
        return problems
