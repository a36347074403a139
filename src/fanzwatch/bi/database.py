"""Is this the platform database? Checked before BI touches it, without creating anything.

SQLite creates a missing file on connect, and the rollup refresher creates ``bi_*``
tables: pointed at the wrong URL, both would leave litter behind and fail later with a
traceback. ``check_platform_database`` answers first, with a message saying what to change.

>>> check_platform_database("sqlite:///missing.db")  # doctest: +SKIP
PlatformDatabaseError: no platform database at missing.db: ...
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from .. import schema
from ..core.errors import ConfigError


class PlatformDatabaseError(ConfigError):
    """The platform database is missing, unreachable, or has no platform tables."""


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig if exc.orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_platform_database(url: str) -> None:
    """Raise ``PlatformDatabaseError`` unless ``url`` reaches a database with the platform tables.

    Reads only: a missing SQLite file is not created (it is opened read-only), and no table
    is created anywhere.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise PlatformDatabaseError(f"not a database URL: {url!r}", setting="bi.database_url") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            raise PlatformDatabaseError(
                f"no platform database at {path or '(no path)'}: point --database-url or "
                "FANZWATCH_BI_DATABASE_URL at the platform's SQLite file",
                setting="bi.database_url",
            )
        # read-only, through a URI: sqlite3 cannot create or change anything on this connection
        engine = sa.create_engine(f"sqlite:///file:{Path(path).resolve()}?mode=ro&uri=true")
    elif backend == "postgresql":
        engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    else:
        raise PlatformDatabaseError(
            f"unsupported database backend {backend!r}: use sqlite or postgresql", setting="bi.database_url"
        )
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            missing = [t.name for t in schema.TABLES if not inspector.has_table(t.name)]
    except DBAPIError as exc:
        raise PlatformDatabaseError(
            f"cannot open the platform database: {_first_line(exc)}", setting="bi.database_url"
        ) from None
    finally:
        engine.dispose()
    if missing:
        raise PlatformDatabaseError(
            f"{parsed.render_as_string(hide_password=True)} has no platform tables ({', '.join(missing)} missing): "
            "is this the platform's database? (docs/schema.md maps a real platform with views)",
            setting="bi.database_url",
        )
