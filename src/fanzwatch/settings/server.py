"""Settings of the fanzwatch server (``fanzwatch serve``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ..core.platforms import DEFAULT_PLATFORMS, validate_platforms
from ._base import ComponentSettings, component_config
from .alerting import AlertingSettings, load_alerting_settings
from .anomaly import AnomalySettings
from .auth import AuthSettings
from .bi import BiSettings
from .dash import DashSettings
from .health import HealthSettings
from .impact import ImpactSettings
from .rum import RumSettings
from .scrubbing import ScrubSettings
from .store import StoreSettings
from .telemetry import TelemetrySettings
from .telemetry_store import OtlpReceiverSettings, TelemetryStoreSettings


class ServerSettings(ComponentSettings):
    """The server: where it listens, where it keeps data, which platforms exist.

    Component settings (``store`` and the features' own) read their own
    ``FANZWATCH_<COMPONENT>_*`` variables; pass instances to override in code:

    >>> s = ServerSettings(port=9300, data_dir=Path("/tmp/fw"))
    """

    model_config = component_config("server")

    host: str = Field(default="127.0.0.1", description="interface to bind; 127.0.0.1 keeps it local")
    port: int = Field(default=8900, ge=1, le=65535, description="HTTP port (never 9090: that is Prometheus)")
    data_dir: Path = Field(default=Path(".fanzwatch"), description="where state and rendered config live")
    platforms: tuple[str, ...] = Field(default=DEFAULT_PLATFORMS, description="the FANZ platform slugs")
    log_level: str = Field(default="info", description="debug, info, warning or error")
    store: StoreSettings = Field(default_factory=StoreSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    scrub: ScrubSettings = Field(default_factory=ScrubSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    rum: RumSettings = Field(default_factory=RumSettings)
    anomaly: AnomalySettings = Field(default_factory=AnomalySettings)
    alerting: AlertingSettings = Field(default_factory=load_alerting_settings)
    bi: BiSettings = Field(default_factory=BiSettings)
    impact: ImpactSettings = Field(default_factory=ImpactSettings)
    dash: DashSettings = Field(default_factory=DashSettings)
    otlp: OtlpReceiverSettings = Field(default_factory=OtlpReceiverSettings)
    telemetry_store: TelemetryStoreSettings = Field(default_factory=TelemetryStoreSettings)

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_platforms(v)

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("log_level must be debug, info, warning or error")
        return v.lower()

    @property
    def secrets_dir(self) -> Path:
        """Where the server keeps the secrets it generates (tokens), mode 0700."""
        return self.data_dir / "secrets"

    @property
    def store_url(self) -> str:
        return self.store.resolved_url(self.data_dir)
