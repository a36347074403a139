"""Faults the platform can be told to have: the incidents that are not the processor's.

- ``latency_seconds``: every tenant API request is that much slower (latency regression);
- ``error_rate``: that share of tenant API requests answer 500 (error burst);
- ``registration_broken``: sign-ups answer 500 (a bad deploy of the registration path).

Faults are applied as a dependency of the tenant API router, after routing, so the
HTTP metrics see them under the real route template, as they would see a real bug.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field


class PlatformFaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_seconds: float = Field(default=0.0, ge=0.0, le=30.0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    registration_broken: bool = False


class PlatformFaultsPatch(BaseModel):
    """A partial change: only the fields given are changed (incidents combine)."""

    model_config = ConfigDict(extra="forbid")

    latency_seconds: float | None = Field(default=None, ge=0.0, le=30.0)
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    registration_broken: bool | None = None


class InjectedFaultError(Exception):
    """Raised inside a request to answer 500 as a real bug would."""


@dataclass
class FaultState:
    current: PlatformFaults = field(default_factory=PlatformFaults)
    rng: random.Random = field(default_factory=random.Random)

    def apply(self, patch: PlatformFaultsPatch) -> PlatformFaults:
        self.current = self.current.model_copy(update=patch.model_dump(exclude_none=True))
        return self.current

    async def on_request(self) -> None:
        faults = self.current
        if faults.latency_seconds:
            await anyio.sleep(faults.latency_seconds)
        if faults.error_rate and self.rng.random() < faults.error_rate:
            raise InjectedFaultError("injected error burst")

    def check_registration(self) -> None:
        if self.current.registration_broken:
            raise InjectedFaultError("registration is broken (injected)")


async def injected_fault_response(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "internal server error"}, status_code=500)
