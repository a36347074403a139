"""Incidents: named faults injected into (and healed from) the running demo services.

Each kind is a change made through a service's admin API, so the system under watch
really misbehaves and the monitoring has to notice by itself:

| kind | what changes | what fires (demo pacing) |
|---|---|---|
| ``payment_outage`` | the processor's primary answers 503 | ``PaymentFailureRate``, ``JourneyFailing`` within 90 s |
| ``latency_regression`` | every platform API request takes +1.5 s | ``HighResponseTime`` (p95 > 1 s) within 90 s |
| ``error_burst`` | 30 % of platform API requests answer 500 | ``HighErrorRate`` (critical, > 5 %) within 90 s |
| ``registration_breakage`` | sign-ups answer 500 | ``HighErrorRate`` (warning, > 1 %) within 90 s |
| ``traffic_spike`` | the simulator sends 5x its traffic | ``request_rate`` above its expected band within 6 min |

Each is sized to cross its threshold with margin: the latency regression puts every
request above the 1 s p95 boundary (a bucket boundary of the duration histogram, so the
estimate cannot interpolate below it: +0.8 s read as 0.99 s and never fired); sign-ups
are about 4 % of a platform's requests, four times the 1 % warning ratio. An alert fires
per platform, on the platforms with enough traffic for the rule's volume guard (at least
0.1 requests/s, 10 payment attempts per window): the larger ones at any hour. The journey
prober's payments fail in a payment outage too (``JourneyFailing`` at its next round, 30 s
apart); with remediation on, the failover to the backup processor may come first. Over a
longer outage ``LowUserRegistrations`` (sign-ups below half of the same hour last week,
which the backfilled history provides) follows ``registration_breakage`` after about
35 minutes. The traffic spike becomes an anomaly (an episode the engine alerts on) once
the detector confirms it, about five minutes into a delivered 5x; a machine that cannot
serve 5x (2x on a loaded 2-core box) shows the band breach only. ``FAULTS`` holds this
table for tests and the CLI.

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


@dataclass(frozen=True, slots=True)
class FaultEffect:
    """What a fault is expected to fire, and how soon after injection under demo pacing."""

    alerts: tuple[str, ...]
    anomalies: tuple[str, ...]
    within_seconds: float
    summary: str


FAULTS: dict[IncidentKind, FaultEffect] = {
    IncidentKind.PAYMENT_OUTAGE: FaultEffect(
        ("PaymentFailureRate", "JourneyFailing"), (), 90, "the processor's primary endpoint answers 503"
    ),
    IncidentKind.LATENCY_REGRESSION: FaultEffect(
        ("HighResponseTime",), (), 90, "every platform API request takes +1.5 s"
    ),
    IncidentKind.ERROR_BURST: FaultEffect(("HighErrorRate",), (), 90, "30 % of platform API requests answer 500"),
    IncidentKind.REGISTRATION_BREAKAGE: FaultEffect(("HighErrorRate",), (), 90, "sign-ups answer 500"),
    IncidentKind.TRAFFIC_SPIKE: FaultEffect((), ("request_rate",), 360, "the simulator sends 5x its traffic"),
}


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

    latency_seconds: float = 1.5
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
