"""Settings of the anomaly engine (``FANZWATCH_ANOMALY_*``).

Times are in seconds. The defaults fit a production Prometheus scraped every 15-30 s:
one point a minute, evaluated a minute behind real time, seven days of history
replayed at start-up so a restart never goes blind.

>>> AnomalySettings(prometheus_url="http://127.0.0.1:9090", step_seconds=60).step_seconds
60.0
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ..core.models import Severity
from ._base import ComponentSettings, component_config

# Prometheus refuses query_range answers of more than 11,000 points per series.
PROMETHEUS_MAX_POINTS = 11_000


class AnomalySettings(ComponentSettings):
    """The streaming anomaly engine: where it reads, where it alerts, how it paces itself."""

    model_config = component_config("anomaly")

    enabled: bool = Field(default=True, description="run the engine in the server")
    prometheus_url: str = Field(default="http://127.0.0.1:9090", description="Prometheus HTTP API base URL")
    alertmanager_url: str | None = Field(
        default="http://127.0.0.1:9093",
        description="Alertmanager base URL anomalies are posted to (POST /api/v2/alerts); empty disables posting",
    )
    detector: str = Field(default="seasonal-cusum", description="detector name (see `fanzwatch anomaly score --help`)")
    step_seconds: float = Field(default=60.0, ge=1.0, le=3600.0, description="resolution of evaluated points")
    interval_seconds: float = Field(default=60.0, gt=0.0, le=3600.0, description="time between two evaluations")
    query_delay_seconds: float = Field(
        default=30.0, ge=0.0, le=3600.0, description="stay this far behind now so late scrapes are in"
    )
    rate_window_seconds: int = Field(default=300, ge=1, le=86400, description="window of rate() in the watch-list")
    history_seconds: float = Field(
        default=7 * 86400.0, ge=0.0, le=90 * 86400.0, description="history replayed at start-up to rebuild state"
    )
    max_points_per_query: int = Field(
        default=10_000, ge=10, le=PROMETHEUS_MAX_POINTS, description="points per series in one query_range call"
    )
    fire_after_points: int = Field(default=2, ge=1, le=1000, description="consecutive anomalous points to fire")
    resolve_after_points: int = Field(default=5, ge=1, le=1000, description="consecutive normal points to resolve")
    alert_min_severity: Severity = Field(
        default=Severity.WARNING,
        description="episodes below this severity are shown in the API but not posted to Alertmanager",
    )
    alert_resend_seconds: float = Field(default=60.0, gt=0.0, description="re-send a firing alert this often")
    alert_ttl_seconds: float = Field(
        default=300.0, gt=0.0, description="endsAt of a firing alert is now + this (must exceed the resend interval)"
    )
    stale_after_seconds: float = Field(
        default=900.0, gt=0.0, description="a series without data this long is stale: its alert is resolved"
    )
    forget_after_seconds: float = Field(default=86400.0, gt=0.0, description="a stale series is dropped after this")
    blind_after_seconds: float = Field(
        default=120.0,
        ge=0.0,
        description="state unknown (Prometheus unreachable or erroring) this long posts AnomalyEngineBlind",
    )
    startup_grace_seconds: float = Field(
        default=300.0,
        ge=0.0,
        description=(
            "before the first evaluation, unknown state posts AnomalyEngineBlind only after this (or "
            "blind_after_seconds, whichever is longer): a stack booting together is not a blind engine"
        ),
    )
    warmup_seconds: float = Field(
        default=0.0,
        ge=0.0,
        le=86400.0,
        description=(
            "points of the first this many seconds after the engine starts are neither judged nor learnt "
            "(for a stack whose services start with the engine: their rates and user counts refill first)"
        ),
    )
    idle_after_seconds: float = Field(
        default=3600.0,
        gt=0.0,
        description="a platform whose request rate has been zero or absent this long is idle: shown apart, not alerted",
    )
    window_points: int = Field(default=1440, ge=10, le=100_000, description="recent points kept per series for the API")
    recent_anomalies: int = Field(default=200, ge=1, le=10_000, description="ended anomalies kept in memory")
    max_series_per_signal: int = Field(default=64, ge=1, le=1000, description="platform series per signal (bound)")
    generator_url: str | None = Field(default=None, description="link put on alerts (e.g. the FanzDash page)")

    @field_validator("alertmanager_url", "generator_url", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("prometheus_url", "alertmanager_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("http://", "https://")):
            raise ValueError(f"{v!r} is not an http(s) URL (e.g. http://127.0.0.1:9090)")
        return v.rstrip("/") if v else v

    @model_validator(mode="after")
    def _consistent(self) -> AnomalySettings:
        if self.alert_ttl_seconds <= self.alert_resend_seconds:
            raise ValueError("alert_ttl_seconds must exceed alert_resend_seconds, or alerts expire between re-sends")
        if self.rate_window_seconds < self.step_seconds:
            raise ValueError("rate_window_seconds must be at least step_seconds, or points skip samples")
        if self.forget_after_seconds < self.stale_after_seconds:
            raise ValueError("forget_after_seconds must be at least stale_after_seconds")
        return self
