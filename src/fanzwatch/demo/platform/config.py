"""How the demo platform is configured: plain typed values, passed in (no environment reads)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ContentKind = Literal["image", "video", "audio", "text"]

DEFAULT_UPLOAD_LIMITS: dict[str, int] = {
    "image": 10 * 1024 * 1024,
    "video": 200 * 1024 * 1024,
    "audio": 50 * 1024 * 1024,
    "text": 256 * 1024,
}


class PlatformConfig(BaseModel):
    """The demo platform's settings.

    >>> PlatformConfig(database_url="sqlite:///demo.db", storage_dir=Path("objects"),
    ...                processor_url="http://127.0.0.1:8310", platforms=("fanz-1", "fanz-2"))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str = Field(description="SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://...")
    storage_dir: Path = Field(description="object storage directory for uploaded content")
    processor_url: str = Field(description="base URL of the payment processor (its /primary and /backup live under it)")
    platforms: tuple[str, ...] = Field(min_length=1, max_length=13, description="tenants served side by side")
    service_name: str = Field(default="fanz-demo-platform", description="service.name of the telemetry")
    platform_fee_rate: Decimal = Field(default=Decimal("0.20"), ge=0, le=1, description="the platform's cut")
    token_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0, description="how long a login token lasts")
    upload_limits: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_UPLOAD_LIMITS))
    processor_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="per processor call")
    password_hash_cost: int = Field(default=2**14, ge=2**4, le=2**20, description="scrypt N (a power of two)")
    rum_script_url: str | None = Field(default=None, description="URL of fanz-rum.js; None: no RUM on pages")
    rum_endpoint: str | None = Field(default=None, description="where the RUM script sends its beacons")
    db_pool_size: int = Field(default=5, ge=1, le=100)
    health_max_age_seconds: float = Field(default=5.0, ge=0, le=60, description="health results cached this long")

    @field_validator("database_url")
    @classmethod
    def _backend(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be sqlite:///PATH or postgresql+psycopg://...")
        return v

    @field_validator("upload_limits")
    @classmethod
    def _every_kind(cls, v: dict[str, int]) -> dict[str, int]:
        if set(v) != set(DEFAULT_UPLOAD_LIMITS):
            raise ValueError(f"upload_limits needs exactly the kinds {sorted(DEFAULT_UPLOAD_LIMITS)}")
        if any(limit <= 0 for limit in v.values()):
            raise ValueError("upload limits must be positive byte counts")
        return v

    @field_validator("password_hash_cost")
    @classmethod
    def _power_of_two(cls, v: int) -> int:
        if v & (v - 1):
            raise ValueError("password_hash_cost must be a power of two")
        return v

    @field_validator("platforms")
    @classmethod
    def _unique(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("platforms must be unique")
        return v
