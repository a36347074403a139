"""DB pool gauges are read from the real SQLAlchemy pool at scrape time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import StaticPool

from fanzwatch.core import ConfigError
from fanzwatch.sdk import instrument_db_pool
from fanzwatch.sdk.testing import TelemetryCapture


def _pool(cap: TelemetryCapture, name: str) -> tuple[float | None, float | None, float | None]:
    base = {"platform": "fanz-1", "pool_name": name}
    return (
        cap.get_sample_value("db_client_connection_count", {**base, "state": "used"}),
        cap.get_sample_value("db_client_connection_count", {**base, "state": "idle"}),
        cap.get_sample_value("db_client_connection_max", base),
    )


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_pool_in_use_idle_and_max(
    cap: TelemetryCapture, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_engine(url, pool_size=2, max_overflow=3)
    try:
        instrument_db_pool(engine, pool_name="primary")
        assert _pool(cap, "primary") == (0, 0, 5)

        conns = [engine.connect() for _ in range(3)]
        for conn in conns:
            conn.execute(text("select 1"))
        assert _pool(cap, "primary") == (3, 0, 5)

        conns.pop().close()  # overflow connection: the pool (size 2) is not full, so it is kept idle
        assert _pool(cap, "primary") == (2, 1, 5)
        for conn in conns:
            conn.close()
        assert _pool(cap, "primary") == (0, 2, 5)

        engine.dispose()  # a new pool: still read correctly
        assert _pool(cap, "primary") == (0, 0, 5)
    finally:
        engine.dispose()


async def test_async_engines_are_supported(cap: TelemetryCapture, tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", pool_size=4, max_overflow=0)
    try:
        cap.telemetry.instrument_db_pool(engine, pool_name="async")
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            assert _pool(cap, "async") == (1, 0, 4)
        assert _pool(cap, "async") == (0, 1, 4)
    finally:
        await engine.dispose()


def test_unreadable_pools_and_duplicate_names_are_config_errors(cap: TelemetryCapture, tmp_path: Path) -> None:
    static = create_engine("sqlite://", poolclass=StaticPool)
    with pytest.raises(ConfigError, match="cannot read connection counts from a StaticPool"):
        instrument_db_pool(static, pool_name="mem")
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    instrument_db_pool(engine, pool_name="main")
    with pytest.raises(ConfigError, match="'main' is already instrumented"):
        instrument_db_pool(engine, pool_name="main")
    engine.dispose()
    static.dispose()


def test_pool_gauges_are_mirrored_to_otlp(cap: TelemetryCapture, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}", pool_size=1, max_overflow=1)
    instrument_db_pool(engine, pool_name="main")
    with engine.connect():
        points = cap.otel_points("db_client_connection_count")
        used = frozenset({"platform": "fanz-1", "pool_name": "main", "state": "used"}.items())
        assert points[used].value == 1
    assert (
        cap.otel_points("db_client_connection_max")[
            frozenset({"platform": "fanz-1", "pool_name": "main"}.items())
        ].value
        == 2
    )
    engine.dispose()
