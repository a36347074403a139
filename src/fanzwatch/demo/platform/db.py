"""The platform's database engine: SQLite by default, PostgreSQL by URL, both async."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL: BI reads the file while the platform writes; busy_timeout: writers queue, not fail.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def create_platform_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An async engine for ``sqlite:///...`` (aiosqlite) or ``postgresql://...`` (psycopg 3)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs |= {"pool_size": pool_size, "max_overflow": pool_size}
    else:
        raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")
    engine = create_async_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine
