"""The SQL check against the real PostgreSQL (and SQLite), with the database taken away."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from fanzwatch.core import ConfigError, HealthStatus
from fanzwatch.health import HealthCheckRunner, SqlCheck

from ._servers import Blackhole, refused_port

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
pytestmark = pytest.mark.postgres


def _backend_pids(app_name: str) -> list[int]:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app_name,)).fetchall()
    return [row[0] for row in rows]


async def test_round_trip_and_pool_statistics(pg_url: str) -> None:
    check = SqlCheck("platform_db", url=pg_url)
    try:
        result = await check.check()
    finally:
        await check.aclose()
    assert result.status is HealthStatus.PASS
    assert result.observed_unit == "s"
    assert isinstance(result.observed_value, float) and 0 < result.observed_value < 1
    # One connection opened by the check and returned to the default pool of 5.
    assert result.details == {
        "pool": "AsyncAdaptedQueuePool",
        "pool_size": 5,
        "checked_out": 0,
        "checked_in": 1,
        "overflow": -4,
    }


async def test_the_applications_own_engine_shows_its_load(pg_url: str) -> None:
    engine = create_async_engine(pg_url, pool_size=3)
    check = SqlCheck("database", engine=engine)
    try:
        async with engine.connect():  # the application holds a connection meanwhile
            result = await check.check()
        await check.aclose()  # not its engine: must not dispose it
        async with engine.connect():
            pass
    finally:
        await engine.dispose()
    assert result.status is HealthStatus.PASS
    assert result.details["checked_out"] == 1
    assert result.details["pool_size"] == 3


async def test_sync_driver_runs_in_a_thread(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "app.db")) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    check = SqlCheck("local_db", url=f"sqlite:///{tmp_path / 'app.db'}")
    try:
        result = await check.check()
    finally:
        await check.aclose()
    assert result.status is HealthStatus.PASS
    assert result.details["pool"] == "QueuePool"


async def test_missing_sqlite_file_fails_instead_of_being_created(tmp_path: Path) -> None:
    path = tmp_path / "platform.db"
    check = SqlCheck("platform_db", url=f"sqlite:///{path}")
    result = await check.check()
    await check.aclose()
    assert result.status is HealthStatus.FAIL
    assert result.output == f"SQLite database file {path} does not exist"
    assert not path.exists()


async def test_missing_database_fails_with_the_servers_message() -> None:
    name = f"fw_missing_{uuid.uuid4().hex[:8]}"
    check = SqlCheck("db", url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    with pytest.raises(Exception, match=f'database "{name}" does not exist'):
        await check.check()
    await check.aclose()


async def test_connection_refused_fails_fast() -> None:
    with refused_port() as port:
        check = SqlCheck("db", url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres")
        started = time.perf_counter()
        with pytest.raises(Exception, match="Connection refused"):
            await check.check()
        assert time.perf_counter() - started < 1.0
        await check.aclose()


async def test_a_connection_dropped_between_runs_is_replaced(pg_url: str) -> None:
    app_name = f"fw_health_{uuid.uuid4().hex[:8]}"
    check = SqlCheck("db", url=f"{pg_url}?application_name={app_name}")
    try:
        assert (await check.check()).details.get("reconnected") is None
        [pid] = _backend_pids(app_name)
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        result = await check.check()
        assert result.status is HealthStatus.PASS
        assert result.details["reconnected"] is True
        assert _backend_pids(app_name) != [pid]
    finally:
        await check.aclose()


async def test_database_dropped_in_the_middle_of_a_check(pg_url: str) -> None:
    name = pg_url.rsplit("/", 1)[1]
    app_name = f"fw_health_{uuid.uuid4().hex[:8]}"
    check = SqlCheck("db", url=f"{pg_url}?application_name={app_name}", query="SELECT pg_sleep(5)")
    running = asyncio.create_task(check.check())
    try:
        for _ in range(250):  # until the check is connected and sleeping in the server
            if _backend_pids(app_name):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the check never reached the server")
        started = time.perf_counter()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        # The retry on a fresh connection finds the database gone (or is cut off by the drop).
        gone = f'database "{name}" does not exist|terminating connection|server closed the connection'
        with pytest.raises(OperationalError, match=gone):
            await running
        assert time.perf_counter() - started < 2.0
    finally:
        await check.aclose()


async def test_a_server_that_never_answers_is_cut_off_by_the_runner(blackhole: Blackhole) -> None:
    check = SqlCheck("db", url=f"postgresql+psycopg://postgres@127.0.0.1:{blackhole.port}/postgres", timeout=0.3)
    runner = HealthCheckRunner([check], registry=CollectorRegistry())
    started = time.perf_counter()
    report = await runner.check("db")
    assert time.perf_counter() - started < 1.0
    assert report.result.output == "timed out after 0.3 s"
    assert blackhole.accepted == 1
    await runner.stop()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid SQLAlchemy URL"),
        ("nosuchdb://x/y", "cannot use 'nosuchdb'"),
        ("mysql+nosuchdriver://x/y", "cannot use 'mysql\\+nosuchdriver'"),
    ],
)
def test_unusable_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SqlCheck("db", url=url)


def test_url_or_engine_not_both() -> None:
    with pytest.raises(ConfigError, match="give either url or engine"):
        SqlCheck("db")
