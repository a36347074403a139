"""From ``HealthSettings`` to running checks: what the fanzwatch server watches."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from prometheus_client import CollectorRegistry

from ..core.clock import Clock
from ..settings.health import (
    CheckConfig,
    DiskCheckConfig,
    HealthSettings,
    HttpCheckConfig,
    LocalStoreConfig,
    MemoryCheckConfig,
    RedisCheckConfig,
    SqlCheckConfig,
    StorageCheckConfig,
    TcpCheckConfig,
)
from ._check import HealthCheck
from ._runner import HealthCheckRunner
from .checks import (
    DiskCheck,
    HttpCheck,
    LocalDirectoryStore,
    MemoryCheck,
    ObjectStore,
    RedisCheck,
    S3ObjectStore,
    SqlCheck,
    StorageCheck,
    TcpCheck,
)


def _secret(value: object) -> str | None:
    get = getattr(value, "get_secret_value", None)
    return get() if callable(get) else None


def build_check(config: CheckConfig, *, http_client: httpx.AsyncClient | None = None) -> HealthCheck:
    """The check one configuration entry describes (nothing is connected yet)."""
    critical, timeout = config.critical, config.timeout_seconds
    if isinstance(config, SqlCheckConfig):
        return SqlCheck(
            config.name, url=config.url.get_secret_value(), query=config.query, critical=critical, timeout=timeout
        )
    if isinstance(config, RedisCheckConfig):
        return RedisCheck(
            config.name,
            url=config.url.get_secret_value(),
            memory_warn_ratio=config.memory_warn_ratio,
            clients_warn_ratio=config.clients_warn_ratio,
            critical=critical,
            timeout=timeout,
        )
    if isinstance(config, HttpCheckConfig):
        return HttpCheck(
            config.name,
            config.url,
            client=http_client,
            expected_status=config.expected_status,
            slow_after=config.slow_after_seconds,
            critical=critical,
            timeout=timeout,
        )
    if isinstance(config, TcpCheckConfig):
        return TcpCheck(config.name, config.host, config.port, critical=critical, timeout=timeout)
    if isinstance(config, DiskCheckConfig):
        return DiskCheck(
            config.name,
            config.paths,
            warn_used_ratio=config.warn_used_ratio,
            fail_used_ratio=config.fail_used_ratio,
            min_free_bytes=config.min_free_bytes,
            critical=critical,
            timeout=timeout,
        )
    if isinstance(config, MemoryCheckConfig):
        return MemoryCheck(
            config.name,
            limit_bytes=config.limit_bytes,
            warn_ratio=config.warn_ratio,
            fail_ratio=config.fail_ratio,
            critical=critical,
            timeout=timeout,
        )
    if isinstance(config, StorageCheckConfig):
        store: ObjectStore
        if isinstance(config.store, LocalStoreConfig):
            store = LocalDirectoryStore(config.store.directory)
        else:
            s3 = config.store
            store = S3ObjectStore(
                s3.bucket,
                endpoint_url=s3.endpoint_url,
                region=s3.region,
                access_key_id=_secret(s3.access_key_id),
                secret_access_key=_secret(s3.secret_access_key),
                prefix=s3.prefix,
                timeout=config.timeout_seconds or 5.0,
            )
        return StorageCheck(config.name, store, critical=critical, timeout=timeout)
    raise TypeError(f"unknown health check configuration {type(config).__name__}")


def build_checks(
    settings: HealthSettings,
    *,
    http_client: httpx.AsyncClient | None = None,
    defaults: Sequence[CheckConfig] = (),
) -> list[HealthCheck]:
    """Every configured check, in order, after the ``defaults`` whose names were not configured.

    HTTP checks share ``http_client`` when given.
    """
    configured = {c.name for c in settings.checks}
    chosen = [c for c in defaults if c.name not in configured] + list(settings.checks)
    return [build_check(config, http_client=http_client) for config in chosen]


def build_runner(
    settings: HealthSettings,
    *,
    registry: CollectorRegistry,
    http_client: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
    defaults: Sequence[CheckConfig] = (),
) -> HealthCheckRunner:
    """A runner over the configured checks (and ``defaults``, see ``build_checks``) with the
    configured period, timeout and cache age."""
    return HealthCheckRunner(
        build_checks(settings, http_client=http_client, defaults=defaults),
        registry=registry,
        platform=settings.platform,
        period=settings.period_seconds,
        default_timeout=settings.default_timeout_seconds,
        max_age=settings.cache_max_age_seconds,
        clock=clock,
    )
