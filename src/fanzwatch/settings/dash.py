"""Settings of FanzDash, the web UI served by the fanzwatch server (``FANZWATCH_DASH_*``).

FanzDash reads Prometheus and Alertmanager over their HTTP APIs and the server's own
features in process. Who may view or change what is the server's route policy
(``FANZWATCH_AUTH_*``, docs/security.md); ``token`` is the older single token, still
accepted as an admin token.

>>> DashSettings(prometheus_url="http://127.0.0.1:9091", token="correct-horse-staple").token.get_secret_value()
'correct-horse-staple'
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from ._base import ComponentSettings, component_config

RANGES = ("15m", "1h", "6h", "24h", "7d")


def _http_url(v: str | None) -> str | None:
    if v is None or v == "":
        return None
    if not v.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:9090")
    return v.rstrip("/")


class DashSettings(ComponentSettings):
    """Where FanzDash reads from, who may change things, and how much history it keeps."""

    model_config = component_config("dash")

    enabled: bool = Field(default=True, description="serve FanzDash at /dash")
    prometheus_url: str | None = Field(
        default="http://127.0.0.1:9090", description="Prometheus HTTP API base URL; empty: dashboards are off"
    )
    alertmanager_url: str | None = Field(
        default="http://127.0.0.1:9093", description="Alertmanager base URL; empty: the alerts page is off"
    )
    token: SecretStr | None = Field(
        default=None,
        description="older single FanzDash token, accepted as an admin token (prefer FANZWATCH_AUTH_*_TOKEN)",
    )
    scrape_interval_seconds: float = Field(
        default=15.0, gt=0, le=3600, description="Prometheus scrape interval, for $__rate_interval"
    )
    default_range: str = Field(default="6h", description=f"time range shown first: one of {', '.join(RANGES)}")
    query_timeout_seconds: float = Field(default=8.0, gt=0, le=120, description="timeout of one Prometheus query")
    max_points: int = Field(default=360, ge=30, le=5000, description="points per chart series (sets the step)")
    health_history_points: int = Field(
        default=240, ge=10, le=10_000, description="health results kept in memory per check"
    )
    health_history_interval_seconds: float = Field(
        default=15.0, gt=0, le=3600, description="how often the health history records the latest results"
    )

    @field_validator("prometheus_url", "alertmanager_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return _http_url(v)

    @field_validator("default_range")
    @classmethod
    def _range(cls, v: str) -> str:
        if v not in RANGES:
            raise ValueError(f"default_range must be one of {', '.join(RANGES)}")
        return v

    @field_validator("token")
    @classmethod
    def _token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value():
            return None
        if v is not None and len(v.get_secret_value()) < 12:
            raise ValueError("token must be at least 12 characters (e.g. `openssl rand -hex 16`)")
        return v
