"""SQL database: a real round trip through SQLAlchemy, plus the pool's statistics.

SQLite is always probed through the standard library's ``sqlite3`` (pysqlite) in a worker
thread, even when the application uses ``aiosqlite``: an aiosqlite connection cancelled
while it connects (the runner timing a check out, or a run abandoned at shutdown) leaves
SQLAlchemy's graceful-close task waiting on aiosqlite's worker thread after that thread
has stopped, and ``asyncio.run`` then waits for that task forever when it shuts the loop
down. A worker thread doing local file I/O is safe to abandon: it finishes on its own.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import Pool, QueuePool

from ...core.errors import ConfigError
from ...core.models import HealthStatus
from .._check import CheckResult, ComponentType, JsonValue
from ._base import BaseCheck, BlockingCalls, elapsed_since

# Backends whose drivers take ``connect_timeout``: a worker thread stuck in connect() to a
# host that never answers would otherwise hold the check's thread for minutes.
_CONNECT_TIMEOUT_BACKENDS = {"postgresql", "mysql", "mariadb"}
_CONNECT_TIMEOUT = 10


def _sqlite_probe_url(url: URL) -> URL | None:
    """For a SQLite URL, the same database through pysqlite (the stdlib driver); else None."""
    if url.get_backend_name() != "sqlite":
        return None
    return url.set(drivername="sqlite+pysqlite")


def _engine_for(url: str) -> AsyncEngine | Engine:
    """An async engine when the URL's driver can do asyncio, else a sync one run in a thread.

    SQLite always gets a sync pysqlite engine (see the module docstring).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid SQLAlchemy URL for a SQL health check: {exc}", setting="url") from None
    sqlite = _sqlite_probe_url(parsed)
    if sqlite is not None:
        parsed = sqlite
        try:
            return create_engine(parsed)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"cannot use {url!r} for a SQL health check: {exc}", setting="url") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() in _CONNECT_TIMEOUT_BACKENDS and "connect_timeout" not in parsed.query:
        kwargs["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT}
    try:
        return create_async_engine(parsed, **kwargs)
    except InvalidRequestError:
        pass  # a sync-only driver (e.g. pysqlite): use it from a worker thread
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cannot use {parsed.drivername!r} for a SQL health check: {exc}", setting="url") from None
    try:
        return create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cannot use {parsed.drivername!r} for a SQL health check: {exc}", setting="url") from None


def pool_statistics(pool: Pool) -> dict[str, JsonValue]:
    """What the pool can tell: size, connections in use and idle, overflow."""
    stats: dict[str, JsonValue] = {"pool": type(pool).__name__}
    if isinstance(pool, QueuePool):
        stats |= {
            "pool_size": pool.size(),
            "checked_out": pool.checkedout(),
            "checked_in": pool.checkedin(),
            "overflow": pool.overflow(),
        }
    return stats


def _sqlite_file(engine: AsyncEngine | Engine) -> Path | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):  # a URI filename: SQLite's own options decide
        return None
    return Path(url.database)


class SqlCheck(BaseCheck):
    """Runs ``query`` (default ``SELECT 1``) on a database and reports its pool.

    Give a URL (any SQLAlchemy URL; async drivers are used natively, sync ones from a
    worker thread) or the application's own engine, whose pool statistics then show how
    busy the application is. The query must be cheap: it runs every period. SQLite is
    probed through pysqlite in a worker thread whatever the driver (an application's
    aiosqlite engine is probed through a pysqlite engine of its own on the same file, and
    its pool still reported): a cancelled aiosqlite connect can hang the loop's shutdown.

    A round trip that fails on the connection (the server dropped it since the last run:
    restart, failover, ``pg_terminate_backend``) is retried once on a fresh connection,
    so a database that is back is reported as passing (``details.reconnected``); one
    that is gone fails. Errors in the query itself are not retried.

    >>> SqlCheck("platform_db", url="postgresql+psycopg://app@db:5432/fanz")
    """

    component_type = ComponentType.DATASTORE

    def __init__(
        self,
        name: str,
        *,
        url: str | None = None,
        engine: AsyncEngine | Engine | None = None,
        query: str = "SELECT 1",
        critical: bool = True,
        timeout: float | None = None,
    ) -> None:
        super().__init__(name, critical=critical, timeout=timeout)
        if (url is None) == (engine is None):
            raise ConfigError(f"SQL health check {name!r}: give either url or engine", setting="url")
        self._owns_engine = engine is None
        self._engine = engine if engine is not None else _engine_for(url or "")
        # What the round trip goes through: the engine itself, or for an async SQLite
        # engine, a pysqlite engine of the check's own on the same database.
        self._probe: AsyncEngine | Engine = self._engine
        if isinstance(self._engine, AsyncEngine):
            sqlite = _sqlite_probe_url(self._engine.url)
            if sqlite is not None:
                self._probe = create_engine(sqlite)
        self._query = text(query)
        self._blocking = BlockingCalls()
        self._sqlite_file = _sqlite_file(self._engine)

    @property
    def engine(self) -> AsyncEngine | Engine:
        return self._engine

    async def check(self) -> CheckResult:
        if self._sqlite_file is not None and not self._sqlite_file.is_file():
            # SQLite would create an empty database and pass: a missing file is a failure.
            return CheckResult.failed(f"SQLite database file {self._sqlite_file} does not exist")
        started = time.perf_counter()
        reconnected = False
        try:
            await self._round_trip()
        except DBAPIError as exc:
            # A lost connection is not always recognised as one (psycopg's "consuming input
            # failed" is not): retry once on any operational error, on a fresh connection.
            if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
                raise
            reconnected = True
            await self._round_trip()
        details = pool_statistics(self._engine.pool)
        if reconnected:
            details["reconnected"] = True
        return CheckResult(HealthStatus.PASS, elapsed_since(started), "s", details=details)

    async def _round_trip(self) -> None:
        engine = self._probe
        if isinstance(engine, AsyncEngine):
            async with engine.connect() as conn:
                (await conn.execute(self._query)).close()
            return
        sync_engine = engine

        def blocking() -> None:
            with sync_engine.connect() as conn:
                conn.execute(self._query).close()

        await self._blocking.run(blocking)

    async def aclose(self) -> None:
        """Dispose of the engines the check created (never the application's)."""
        owned = [self._probe] if self._probe is not self._engine else []
        if self._owns_engine:
            owned.append(self._engine)
        for engine in owned:
            if isinstance(engine, AsyncEngine):
                await engine.dispose()
            else:
                await self._blocking.run(engine.dispose)
