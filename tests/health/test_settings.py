"""HealthSettings (FANZWATCH_HEALTH_*) and building checks and a runner from them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr, ValidationError

from fanzwatch.health import (
    DiskCheck,
    HttpCheck,
    MemoryCheck,
    RedisCheck,
    S3ObjectStore,
    SqlCheck,
    StorageCheck,
    TcpCheck,
    build_checks,
    build_runner,
)
from fanzwatch.settings.health import HealthSettings, S3StoreConfig, StorageCheckConfig, demo_stack_checks

CHECKS = [
    {"kind": "sql", "name": "platform_db", "url": "postgresql+psycopg://fanz:pw@127.0.0.1:5432/fanz"},
    {"kind": "redis", "name": "redis", "url": "redis://127.0.0.1:6379/0", "critical": False},
    {"kind": "http", "name": "payment_processor", "url": "http://127.0.0.1:8702/health", "timeout_seconds": 1.5},
    {"kind": "tcp", "name": "smtp", "host": "127.0.0.1", "port": 25},
    {"kind": "disk", "name": "disk", "paths": ["/tmp"], "min_free_bytes": 1000},
    {"kind": "memory", "name": "memory", "limit_bytes": 1 << 30},
    {"kind": "storage", "name": "media", "store": {"type": "local", "directory": "/srv/media"}},
]


def test_checks_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_HEALTH_CHECKS", json.dumps(CHECKS))
    monkeypatch.setenv("FANZWATCH_HEALTH_PERIOD_SECONDS", "5")
    monkeypatch.setenv("FANZWATCH_HEALTH_CACHE_MAX_AGE_SECONDS", "3")
    monkeypatch.setenv("FANZWATCH_HEALTH_PLATFORM", "fanz-2")
    settings = HealthSettings()
    assert (settings.period_seconds, settings.cache_max_age_seconds, settings.platform) == (5.0, 3.0, "fanz-2")
    checks = build_checks(settings)
    assert [type(c) for c in checks] == [
        SqlCheck,
        RedisCheck,
        HttpCheck,
        TcpCheck,
        DiskCheck,
        MemoryCheck,
        StorageCheck,
    ]
    assert [c.critical for c in checks] == [True, False, True, True, True, True, True]
    assert [c.timeout for c in checks] == [None, None, 1.5, None, None, None, None]
    assert [c.measurement for c in checks][-3:] == ["utilization", "utilization", "responseTime"]


def test_secrets_stay_out_of_reprs() -> None:
    settings = HealthSettings(checks=CHECKS[:1])  # type: ignore[arg-type]
    assert "pw" not in repr(settings)
    assert "pw" not in str(settings.model_dump())


async def test_build_runner_uses_the_settings() -> None:
    settings = HealthSettings(checks=CHECKS[3:6], period_seconds=5, default_timeout_seconds=1, cache_max_age_seconds=4)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    runner = build_runner(settings, registry=registry)
    assert (runner.period, runner.default_timeout, runner.max_age) == (5.0, 1.0, 4.0)
    assert runner.checks.names == ("smtp", "disk", "memory")
    assert registry.get_sample_value("fanz_health_check_critical", {"platform": "other", "check": "disk"}) == 1.0


def test_s3_storage_settings_build_an_s3_store() -> None:
    config = StorageCheckConfig(
        name="media_s3",
        store=S3StoreConfig(
            bucket="fanz-media",
            endpoint_url="http://127.0.0.1:9000",
            access_key_id=SecretStr("key"),
            secret_access_key=SecretStr("secret"),
        ),
    )
    [check] = build_checks(HealthSettings(checks=(config,)))
    assert isinstance(check, StorageCheck) and isinstance(check.store, S3ObjectStore)
    assert check.store.describe() == "bucket fanz-media at http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("checks", "extra", "message"),
    [
        (
            [{"kind": "http", "name": "p", "url": "http://x/h", "timeout_seconds": 20}],
            {},
            "timeout 20 s must be shorter",
        ),
        ([], {"default_timeout_seconds": 15}, "default_timeout_seconds 15 s must be shorter than period_seconds 15 s"),
        ([{"kind": "tcp", "name": "a", "host": "h", "port": 1}] * 2, {}, "names must be unique; repeated: a"),
        ([{"kind": "ftp", "name": "a"}], {}, "does not match any of the expected tags"),
        ([{"kind": "tcp", "name": "Bad-Name", "host": "h", "port": 1}], {}, "String should match pattern"),
        ([{"kind": "tcp", "name": "a", "host": "h", "port": 70000}], {}, "less than or equal to 65535"),
        ([{"kind": "disk", "name": "d", "paths": []}], {}, "at least 1 item"),
        ([{"kind": "memory", "name": "m", "warn_ratio": 0.9, "fail_ratio": 0.5}], {}, "warn ratio must not exceed"),
        ([{"kind": "http", "name": "p", "url": "ftp://x"}], {}, "String should match pattern"),
        ([{"kind": "sql", "name": "db"}], {}, "Field required"),
        ([], {"platform": "Not A Slug"}, "platform must be a platform slug"),
    ],
)
def test_invalid_settings_say_what_is_wrong(
    checks: list[dict[str, object]], extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        HealthSettings(checks=checks, **extra)  # type: ignore[arg-type]


def test_demo_stack_configuration(tmp_path: Path) -> None:
    checks = demo_stack_checks(
        database_url=f"sqlite:///{tmp_path / 'platform.db'}",
        redis_url="redis://127.0.0.1:6379/0",
        payment_processor_url="http://127.0.0.1:8702/health",
        storage_dir=tmp_path / "media",
        data_dir=tmp_path,
    )
    settings = HealthSettings(checks=checks)
    built = build_checks(settings)
    assert [(c.name, type(c).__name__, c.critical) for c in built] == [
        ("platform_db", "SqlCheck", True),
        ("redis", "RedisCheck", True),
        ("payment_processor", "HttpCheck", True),
        ("media_storage", "StorageCheck", True),
        ("disk", "DiskCheck", False),
        ("memory", "MemoryCheck", False),
    ]
