"""Settings of ``fanzwatch up``: where the stack keeps its data, its ports, its pace."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator

from ._base import ComponentSettings, component_config
from .provisioning import _prometheus_duration

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SHORT_RATE_WINDOW = timedelta(seconds=30)


class StackSettings(ComponentSettings):
    """The one-machine stack: Prometheus, Alertmanager, node_exporter, blackbox_exporter, the server (and the demo).

    Every port is configurable; 9090 belongs to Prometheus and nothing else.

    >>> StackSettings(data_dir=Path("/tmp/fw"), short_intervals=True)
    """

    model_config = component_config("stack")

    data_dir: Path = Field(default=Path(".fanzwatch"), description="state of every process; reused by the next run")
    host: str = Field(default="127.0.0.1", description="interface every process binds (loopback only)")
    prometheus_port: int = Field(default=9090, ge=1, le=65535, description="Prometheus HTTP port")
    alertmanager_port: int = Field(default=9093, ge=1, le=65535, description="Alertmanager HTTP port")
    node_exporter_port: int = Field(default=9100, ge=1, le=65535, description="node_exporter port")
    blackbox_port: int = Field(default=9115, ge=1, le=65535, description="blackbox_exporter port (synthetic probes)")
    server_port: int = Field(default=8900, ge=1, le=65535, description="fanzwatch server port")
    telemetry_store_port: int = Field(
        default=8911, ge=1, le=65535, description="trace and log store process port (fanzwatch telemetry-store)"
    )
    run_server: bool = Field(
        default=True,
        description="start the fanzwatch server; off when something else serves server_port "
        "(a server under a debugger, a test's alert receiver): the rendered config still points at it",
    )
    short_intervals: bool = Field(
        default=False,
        description="1 s scrape and evaluation, 1 s Alertmanager grouping, alert hold times ×0.02, "
        "30 s rate windows (tests, demos)",
    )
    for_scale: float | None = Field(
        default=None, gt=0, le=1, description="alert hold-time factor; default 1, or 0.02 with short_intervals"
    )
    rate_window: timedelta | None = Field(
        default=None,
        description="range of the rules' short-term rates; default the provisioning's (5m), or 30s with "
        "short_intervals; at least 4 scrape intervals",
    )
    startup_timeout_seconds: float = Field(default=60.0, gt=0, le=600, description="per child, until healthy")
    stop_grace_seconds: float = Field(default=10.0, gt=0, le=120, description="SIGTERM to SIGKILL, per stop")
    prometheus_retention: str = Field(default="15d", pattern=r"^\d+[smhdwy]$", description="TSDB retention time")
    prometheus_binary: Path | None = Field(default=None, description="explicit prometheus path (default: PATH)")
    alertmanager_binary: Path | None = Field(default=None, description="explicit alertmanager path (default: PATH)")
    node_exporter_binary: Path | None = Field(default=None, description="explicit node_exporter path (default: PATH)")
    blackbox_exporter_binary: Path | None = Field(
        default=None, description="explicit blackbox_exporter path (default: PATH)"
    )
    probes: bool | None = Field(
        default=None,
        description="run the synthetic probes through blackbox_exporter: none = when blackbox_exporter is "
        "on PATH (a warning otherwise); true = required (a missing binary stops `fanzwatch up`); false = off",
    )
    secrets_dir: Path | None = Field(
        default=None, description="files Alertmanager reads secrets from (default: <data_dir>/secrets)"
    )
    registry_dir: Path | None = Field(
        default=None,
        description="where running stacks are listed, so commands find them from any directory "
        "(default: $XDG_RUNTIME_DIR/fanzwatch/stacks, else ~/.local/state/fanzwatch/stacks)",
    )

    @field_validator("host")
    @classmethod
    def _loopback(cls, v: str) -> str:
        if v not in LOOPBACK:
            raise ValueError("the one-machine stack binds loopback only (127.0.0.1, ::1 or localhost)")
        return v

    @field_validator("rate_window", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        return _prometheus_duration(v)

    @property
    def resolved_for_scale(self) -> float:
        if self.for_scale is not None:
            return self.for_scale
        return 0.02 if self.short_intervals else 1.0

    @property
    def resolved_rate_window(self) -> timedelta | None:
        """The rate window the stack imposes, or None to keep the provisioning settings' own."""
        if self.rate_window is not None:
            return self.rate_window
        return SHORT_RATE_WINDOW if self.short_intervals else None

    @property
    def resolved_secrets_dir(self) -> Path:
        return self.secrets_dir or self.data_dir / "secrets"

    @property
    def resolved_registry_dir(self) -> Path:
        if self.registry_dir is not None:
            return self.registry_dir
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        if runtime:
            return Path(runtime) / "fanzwatch" / "stacks"
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(state) / "fanzwatch" / "stacks"
