"""Settings of the demo started by ``fanzwatch up --demo``: its ports, tenants and traffic."""

from __future__ import annotations

from pydantic import Field, field_validator

from ..core.platforms import DEFAULT_PLATFORMS, validate_platforms
from ._base import ComponentSettings, component_config


class DemoSettings(ComponentSettings):
    """The demo platform, payment processor and traffic simulator.

    >>> DemoSettings(platforms=("fanz-1", "fanz-2"), day_seconds=600)
    """

    model_config = component_config("demo")

    platform_port: int = Field(default=8300, ge=1, le=65535, description="demo platform HTTP port")
    processor_port: int = Field(default=8310, ge=1, le=65535, description="fake payment processor HTTP port")
    simulator_port: int = Field(default=8320, ge=1, le=65535, description="traffic simulator admin port")
    prober_port: int = Field(default=8340, ge=1, le=65535, description="journey prober's /metrics port")
    prober_interval_seconds: float = Field(
        default=30.0, ge=1, le=3600, description="seconds between the journey prober's rounds of every platform"
    )
    platforms: tuple[str, ...] = Field(
        default=DEFAULT_PLATFORMS,
        description="tenants served side by side by one platform process (at most 13): all 13 FANZ platforms",
    )
    database_url: str | None = Field(
        default=None, description="platform database URL; default sqlite:///<data_dir>/demo/platform.db"
    )
    traffic: bool = Field(default=True, description="run the traffic simulator")
    peak_rps: float = Field(
        default=16.0,
        gt=0,
        le=500,
        description="simulated requests per second of all platforms together were each at its peak hour "
        "(about half of it at any moment: the platforms' peaks are hours apart)",
    )
    day_seconds: float = Field(
        default=86_400.0,
        ge=1,
        le=86_400,
        description="real seconds per simulated day: 86400 (real time) continues the backfilled history; "
        "less compresses the day (600: a day in ten minutes) and leaves a seam after the history",
    )
    max_requests: int = Field(default=2_000_000, gt=0, description="the simulator stops after this many requests")
    max_duration_seconds: float = Field(default=12 * 3600.0, gt=0, description="the simulator stops after this long")
    seed: int | None = Field(default=None, description="random seed of the simulator and processor")
    backfill: bool = Field(
        default=False,
        description="before the first start, backfill weeks of metrics into Prometheus and months of platform "
        "data into the demo database (skipped once history exists); `fanzwatch up --demo` turns it on unless "
        "--no-backfill (or this variable) says otherwise, a Stack built in code (tests) leaves it off",
    )
    metrics_history_days: int = Field(default=28, ge=1, le=90, description="days of metrics history to backfill")
    platform_history_days: int = Field(default=90, ge=1, le=730, description="days of platform data to backfill")
    platform_history_scale: float = Field(
        default=0.25, gt=0, le=100, description="volume of the backfilled platform data (1.0: ~1 M rows per platform)"
    )
    sinks_port: int = Field(
        default=8330, ge=1, le=65535, description="local Slack/PagerDuty receivers and their page of delivered messages"
    )
    smtp_port: int = Field(default=8325, ge=1, le=65535, description="local SMTP receiver of the demo's e-mails")
    browser_sessions: bool = Field(
        default=True, description="drive headless Chromium through the platform's pages, so RUM gets real beacons"
    )
    browser_interval_seconds: float = Field(
        default=15.0, gt=0, le=3600, description="seconds between two browser sessions, on average"
    )
    remediation_dry_run: bool = Field(
        default=False, description="the payment-failover playbook decides and audits but never switches"
    )

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        validate_platforms(v)
        if len(v) > 13:
            raise ValueError("the demo runs at most 13 platforms side by side")
        return v
