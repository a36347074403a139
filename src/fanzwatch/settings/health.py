"""Settings of the health checks the fanzwatch server runs (``FANZWATCH_HEALTH_*``).

The list of checks is typed: each entry has a ``kind`` and that kind's parameters. From
the environment, give it as JSON::

    FANZWATCH_HEALTH_CHECKS='[
      {"kind": "sql", "name": "platform_db", "url": "sqlite:////srv/fanz/platform.db"},
      {"kind": "redis", "name": "redis", "url": "redis://127.0.0.1:6379/0"},
      {"kind": "http", "name": "payment_processor", "url": "http://127.0.0.1:8702/health"},
      {"kind": "storage", "name": "media", "store": {"type": "local", "directory": "/srv/fanz/media"}},
      {"kind": "disk", "name": "disk", "paths": ["/srv/fanz"], "critical": false},
      {"kind": "memory", "name": "memory", "critical": false}
    ]'
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..core.platforms import OTHER_PLATFORM, PLATFORM_SLUG
from ._base import ComponentSettings, component_config

CheckName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="unique; the metric's check label")]


class _CheckConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: CheckName
    critical: bool = Field(default=True, description="a failure fails readiness (false: it only warns)")
    timeout_seconds: float | None = Field(default=None, gt=0, description="this check's timeout; default: the global")


class SqlCheckConfig(_CheckConfig):
    """A database, by SQLAlchemy URL: ``SELECT 1`` plus pool statistics."""

    kind: Literal["sql"] = "sql"
    url: SecretStr = Field(description="SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db")
    query: str = Field(default="SELECT 1", min_length=1, description="a cheap query that returns rows")


class RedisCheckConfig(_CheckConfig):
    """Redis: ``PING``, then memory and clients from ``INFO``."""

    kind: Literal["redis"] = "redis"
    url: SecretStr = Field(default=SecretStr("redis://127.0.0.1:6379/0"), description="redis:// or rediss:// URL")
    memory_warn_ratio: float = Field(default=0.9, gt=0, le=1, description="warn at this share of maxmemory")
    clients_warn_ratio: float = Field(default=0.9, gt=0, le=1, description="warn at this share of maxclients")


class HttpCheckConfig(_CheckConfig):
    """An HTTP dependency's health URL: status code and latency."""

    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://", description="the URL to GET, e.g. the payment processor's /health")
    expected_status: tuple[int, ...] | None = Field(default=None, description="accepted codes; default any 2xx")
    slow_after_seconds: float | None = Field(default=None, gt=0, description="warn when slower than this")


class TcpCheckConfig(_CheckConfig):
    """A TCP connect, for a dependency without a better check."""

    kind: Literal["tcp"] = "tcp"
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


class DiskCheckConfig(_CheckConfig):
    """Free space on the filesystems holding ``paths``."""

    kind: Literal["disk"] = "disk"
    paths: tuple[Path, ...] = Field(min_length=1, description="paths whose filesystems to watch")
    warn_used_ratio: float = Field(default=0.85, gt=0, le=1)
    fail_used_ratio: float = Field(default=0.95, gt=0, le=1)
    min_free_bytes: int | None = Field(default=None, ge=0, description="fail below this many free bytes")


class MemoryCheckConfig(_CheckConfig):
    """This process's RSS against its cgroup (or configured) limit."""

    kind: Literal["memory"] = "memory"
    limit_bytes: int | None = Field(default=None, gt=0, description="overrides the cgroup limit")
    warn_ratio: float = Field(default=0.8, gt=0, le=1)
    fail_ratio: float = Field(default=0.95, gt=0, le=1)


class LocalStoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["local"] = "local"
    directory: Path = Field(description="the directory objects are stored in")


class S3StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["s3"] = "s3"
    bucket: str = Field(min_length=3, max_length=63)
    endpoint_url: str | None = Field(default=None, description="for S3-compatible servers (MinIO, Ceph, R2...)")
    region: str = "us-east-1"
    access_key_id: SecretStr | None = Field(default=None, description="default: boto3's credential chain")
    secret_access_key: SecretStr | None = None
    prefix: str = Field(default="", description="key prefix for the probe objects")


class StorageCheckConfig(_CheckConfig):
    """An object-storage round trip: write, read back, compare, delete."""

    kind: Literal["storage"] = "storage"
    store: Annotated[LocalStoreConfig | S3StoreConfig, Field(discriminator="type")]


CheckConfig = Annotated[
    SqlCheckConfig
    | RedisCheckConfig
    | HttpCheckConfig
    | TcpCheckConfig
    | DiskCheckConfig
    | MemoryCheckConfig
    | StorageCheckConfig,
    Field(discriminator="kind"),
]


class HealthSettings(ComponentSettings):
    """Which dependencies the server watches, how often, and how long it waits.

    The timeout must stay well under the period (the guide's 30 s timeout on a 30 s period
    let runs overlap); probes read results cached for ``cache_max_age_seconds``.

    >>> HealthSettings(checks=[HttpCheckConfig(name="payment_processor", url="http://127.0.0.1:8702/health")])
    """

    model_config = component_config("health")

    checks: tuple[CheckConfig, ...] = Field(default=(), description="the checks to run (JSON list in the environment)")
    period_seconds: float = Field(default=15.0, ge=0.05, description="background run every this many seconds")
    default_timeout_seconds: float = Field(default=2.0, gt=0, description="timeout of a check that sets none")
    cache_max_age_seconds: float = Field(default=10.0, ge=0, description="probes reuse results this young")
    platform: str = Field(default=OTHER_PLATFORM, description="the platform label on the health metrics")
    server_checks: bool = Field(
        default=True,
        description="also run the server's own checks: its store (a real query), disk space of the data dir, "
        "memory against the cgroup limit, Prometheus and Alertmanager when configured; a configured check "
        "of the same name replaces one",
    )

    @field_validator("platform")
    @classmethod
    def _platform(cls, v: str) -> str:
        if v != OTHER_PLATFORM and not PLATFORM_SLUG.match(v):
            raise ValueError(f"platform must be a platform slug or {OTHER_PLATFORM!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> HealthSettings:
        if self.default_timeout_seconds >= self.period_seconds:
            raise ValueError(
                f"default_timeout_seconds {self.default_timeout_seconds:g} s must be shorter than "
                f"period_seconds {self.period_seconds:g} s"
            )
        names = [c.name for c in self.checks]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"health check names must be unique; repeated: {', '.join(duplicates)}")
        for check in self.checks:
            timeout = check.timeout_seconds or self.default_timeout_seconds
            if timeout >= self.period_seconds:
                raise ValueError(
                    f"health check {check.name!r}: timeout {timeout:g} s must be shorter than "
                    f"period_seconds {self.period_seconds:g} s"
                )
            ratios = _ratios(check)
            if ratios is not None and ratios[0] > ratios[1]:
                raise ValueError(f"health check {check.name!r}: the warn ratio must not exceed the fail ratio")
        return self


def _ratios(check: _CheckConfig) -> tuple[float, float] | None:
    if isinstance(check, DiskCheckConfig):
        return check.warn_used_ratio, check.fail_used_ratio
    if isinstance(check, MemoryCheckConfig):
        return check.warn_ratio, check.fail_ratio
    return None


def server_checks(
    *, store_url: str, data_dir: Path, prometheus_url: str | None = None, alertmanager_url: str | None = None
) -> tuple[CheckConfig, ...]:
    """What every fanzwatch server watches about itself (``HealthSettings.server_checks``).

    Its own store is critical (nothing can be stored without it); disk, memory and the
    Prometheus/Alertmanager it reads only warn: the server still takes beacons and alerts.
    """
    checks: list[CheckConfig] = [
        SqlCheckConfig(name="store", url=SecretStr(store_url), query="SELECT count(*) FROM alembic_version"),
        DiskCheckConfig(name="disk", paths=(data_dir,), critical=False),
        MemoryCheckConfig(name="memory", critical=False),
    ]
    if prometheus_url:
        checks.append(HttpCheckConfig(name="prometheus", url=f"{prometheus_url}/-/ready", critical=False))
    if alertmanager_url:
        checks.append(HttpCheckConfig(name="alertmanager", url=f"{alertmanager_url}/-/ready", critical=False))
    return tuple(checks)


def demo_stack_checks(
    *,
    database_url: str,
    redis_url: str,
    payment_processor_url: str,
    storage_dir: Path,
    data_dir: Path,
) -> tuple[CheckConfig, ...]:
    """The checks the fanzwatch server runs against the demo stack (``fanzwatch up --demo``).

    The platform database, Redis, the payment processor and the media storage round trip
    are critical (the platform cannot take payments or uploads without them); disk and
    memory only warn.

    >>> HealthSettings(checks=demo_stack_checks(database_url=..., ...), period_seconds=5)
    """
    return (
        SqlCheckConfig(name="platform_db", url=SecretStr(database_url)),
        RedisCheckConfig(name="redis", url=SecretStr(redis_url)),
        HttpCheckConfig(name="payment_processor", url=payment_processor_url, slow_after_seconds=1.0),
        StorageCheckConfig(name="media_storage", store=LocalStoreConfig(directory=storage_dir)),
        DiskCheckConfig(name="disk", paths=(data_dir, storage_dir), critical=False),
        MemoryCheckConfig(name="memory", critical=False),
    )
