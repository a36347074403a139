"""What the traffic simulator is told: where to send traffic, how much, for how long."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def require_loopback(url: str) -> str:
    """Refuse any target that is not this machine: the simulator is a load generator."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"{url!r} is not a loopback URL: the simulator only targets 127.0.0.1, ::1 or localhost")
    return url.rstrip("/")


class SimulatorConfig(BaseModel):
    """Traffic shape and budget. The run stops by itself at the first budget reached.

    >>> SimulatorConfig(platform_url="http://127.0.0.1:8300", platforms=("fanz-1",), peak_rps=5)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    platform_url: str = Field(description="base URL of the demo platform (loopback only)")
    platforms: tuple[str, ...] = Field(min_length=1, max_length=13, description="tenants to send traffic to")
    peak_rps: float = Field(default=5.0, gt=0, le=500, description="requests per second at the busiest hour")
    day_seconds: float = Field(default=600.0, ge=1, le=86_400, description="real seconds per simulated day")
    start: datetime | None = Field(default=None, description="simulated start time (default: now)")
    max_requests: int = Field(default=1_000_000, gt=0, description="stop after this many requests")
    max_duration_seconds: float = Field(default=8 * 3600.0, gt=0, description="stop after this long")
    max_in_flight: int = Field(default=16, ge=1, le=256, description="concurrent requests; beyond: skipped")
    fans_per_platform: int = Field(default=40, ge=1, le=10_000, description="fans simulated per tenant")
    creators_per_platform: int = Field(default=6, ge=1, le=1_000, description="creators simulated per tenant")
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    seed: int | None = Field(default=None, description="random seed (reproducible runs)")

    @field_validator("platform_url")
    @classmethod
    def _loopback(cls, v: str) -> str:
        return require_loopback(v)
