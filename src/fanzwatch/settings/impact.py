"""Settings of incident impact (``FANZWATCH_IMPACT_*``): how incidents are priced.

Prometheus is the anomaly engine's (``anomaly.prometheus_url``) and the platform database
BI's (``bi.database_url``); the figures are in BI's ``reporting_currency``, converted at
the platform database's ``exchange_rates``, or at ``exchange_rates`` here when there is
no platform database (or it lacks a currency).

>>> ImpactSettings(history_days=14, level=0.9).history_days
14.0
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from ..core.impact import Seasonality
from ._base import ComponentSettings, component_config


class ImpactSettings(ComponentSettings):
    """Pricing of incidents: forecast history, interval, pace, money-driven priority."""

    model_config = component_config("impact")

    enabled: bool = Field(default=True, description="price incidents in the server (needs alerting and Prometheus)")
    interval_seconds: float = Field(default=60.0, ge=5.0, le=3600.0, description="time between two pricing rounds")
    step_seconds: int = Field(
        default=60, ge=15, le=3600, description="resolution of the revenue series (whole seconds)"
    )
    history_days: float = Field(
        default=14.0,
        ge=1.0,
        le=90.0,
        description="history the forecast learns from; with 14 days or more the weekly (hour-of-week) "
        "profile is detected, with less the daily one",
    )
    seasonality: Seasonality = Field(
        default="auto", description="forecast profile: auto (weekly when detected, else daily), weekly, daily, none"
    )
    level: float = Field(default=0.9, ge=0.5, lt=1.0, description="coverage of the forecast interval")
    settle_seconds: float = Field(
        default=900.0,
        ge=0.0,
        le=7 * 86400.0,
        description="after resolution, how long revenue above the forecast counts as recovered late payments",
    )
    priority_window_minutes: int = Field(
        default=5, ge=2, le=120, description="recent minutes judged for money-driven priority"
    )
    min_payment_attempts: int = Field(
        default=100, ge=1, le=1_000_000, description="attempts in the window before payment success is judged"
    )
    max_incidents_per_round: int = Field(default=50, ge=1, le=10_000, description="incidents priced per round")
    round_budget_seconds: float = Field(
        default=20.0,
        ge=1.0,
        le=3600.0,
        description="a round prices no further incident after this long; the least recently priced go first",
    )
    exchange_rates: dict[str, Decimal] = Field(
        default_factory=dict,
        description="USD value of one unit per currency, used where the platform database has no rate",
    )

    @field_validator("exchange_rates")
    @classmethod
    def _rates(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for code, rate in v.items():
            if len(code) != 3 or not code.isupper() or rate <= 0:
                raise ValueError(f"exchange_rates: {code}={rate}: use a 3-letter ISO 4217 code and a positive rate")
        return v
