"""Settings of business intelligence (``FANZWATCH_BI_*``).

BI reads the platform database (the demo platform's SQLite file, or a real platform's
read replica mapped with views, see docs/schema.md) and keeps hourly rollups next to it.

>>> BiSettings(database_url="sqlite:///demo.db", default_fee_rate="0.25").default_fee_rate
Decimal('0.25')
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, SecretStr, field_validator

from ._base import ComponentSettings, component_config

_URL_PREFIXES = ("sqlite", "postgresql")


def _check_url(v: SecretStr | None) -> SecretStr | None:
    if v is not None and not v.get_secret_value().startswith(_URL_PREFIXES):
        raise ValueError("database url must be sqlite:///PATH or postgresql+psycopg://...")
    return v


class BiSettings(ComponentSettings):
    """Where BI reads, how money is reported, how long results are cached."""

    model_config = component_config("bi")

    enabled: bool = Field(default=True, description="serve BI in the server when database_url is set")
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the platform database BI reads (a read-only role is enough)",
    )
    rollup_url: SecretStr | None = Field(
        default=None,
        description="URL the rollup refresher writes bi_* tables with; default database_url. "
        "On a read replica, point this at the primary with a role that may write bi_* only",
    )
    use_rollups: bool = Field(default=True, description="answer from rollups (false: raw SQL only, slow at scale)")
    refresh_rollups: bool = Field(default=True, description="run the incremental rollup refresher in the server")
    rollup_interval_seconds: float = Field(default=60.0, ge=1.0, le=3600.0, description="time between refreshes")
    change_margin_seconds: float = Field(
        default=300.0, ge=0.0, le=86400.0, description="re-read rows updated this long before the last refresh"
    )
    reporting_currency: str = Field(default="USD", description="ISO 4217 code totals are converted to")
    default_fee_rate: Decimal = Field(
        default=Decimal("0.20"),
        ge=Decimal(0),
        le=Decimal(1),
        description="platform fee rate applied only to transactions without a recorded fee_amount",
    )
    cache_ttl_seconds: float = Field(default=300.0, ge=0.0, le=86400.0, description="report cache lifetime")
    cache_entries: int = Field(default=256, ge=1, le=100_000, description="reports kept in the cache at most")
    metrics_window: str = Field(default="15m", description="window of the exported rate metrics (e.g. 15m, 1h)")
    metrics_ttl_seconds: float = Field(default=60.0, ge=0.0, le=3600.0, description="exported metrics cache lifetime")

    @field_validator("database_url", "rollup_url")
    @classmethod
    def _url(cls, v: SecretStr | None) -> SecretStr | None:
        return _check_url(v)

    @field_validator("reporting_currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError("reporting_currency must be a 3-letter ISO 4217 code, e.g. USD")
        return v

    @field_validator("metrics_window")
    @classmethod
    def _window(cls, v: str) -> str:
        if not re.fullmatch(r"\d{1,4}[mhd]", v):
            raise ValueError("metrics_window must be a number and a unit m, h or d, e.g. 15m")
        return v
