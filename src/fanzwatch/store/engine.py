"""Engines for the server's store: one URL, sync (migrations, CLI) and async (server)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ..core.errors import ConfigError


def _driver_url(url: str, *, asynchronous: bool) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        driver = "aiosqlite" if asynchronous else "pysqlite"
    elif backend == "postgresql":
        driver = "psycopg"  # psycopg 3 does both sync and async
    else:
        raise ConfigError(f"unsupported store backend {backend!r}: use sqlite or postgresql", setting="store.url")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the server read while a writer commits; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def create_sync_engine(url: str, *, echo: bool = False) -> Engine:
    """A synchronous engine for migrations and command-line tools."""
    engine = create_engine(_driver_url(url, asynchronous=False), echo=echo, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_store_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    """The asynchronous engine the server uses."""
    # hide_parameters: a failed statement's error never carries the values (personal data,
    # tokens) into a log line; ``echo`` is for debugging and shows them anyway.
    kwargs: dict[str, Any] = {"echo": echo, "pool_pre_ping": True, "hide_parameters": not echo}
    if make_url(url).get_backend_name() == "postgresql":
        kwargs |= {"pool_size": pool_size, "max_overflow": pool_size}
    engine = create_async_engine(_driver_url(url, asynchronous=True), **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine
