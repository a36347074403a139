"""Portable SQL building blocks: the few expressions SQLite and PostgreSQL spell differently.

Rollups key rows by *epoch hour* and *epoch day* (integers: whole hours/days since
1970-01-01 UTC), which compare, subtract and index the same way on both backends. Every
function here compiles to native SQL per dialect, so queries stay one SQLAlchemy Core
expression. Timestamps are those written by ``fanzwatch.schema.UtcDateTime``: UTC,
``timestamptz`` on PostgreSQL, fixed-format text ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite.

Nothing here rounds. SQLite's date functions parse a timestamp into milliseconds, so
``strftime('%s', '... 23:59:59.9997')`` is the *next* second (and hour, and day): every
SQLite expression therefore reads the whole seconds from the first 19 characters
(``YYYY-MM-DD HH:MM:SS``, no fraction) and the microseconds from the fixed-position
fraction. PostgreSQL's ``extract(epoch ...)`` is an exact ``numeric`` (version 14 on).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class epoch_hour(FunctionElement[int]):
    """Whole hours since the epoch of a UTC timestamp column (floor)."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "epoch_hour"


class epoch_day(FunctionElement[int]):
    """Whole days since the epoch of a UTC timestamp column (floor)."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "epoch_day"


class duration_us(FunctionElement[int]):
    """Exact microseconds from the first timestamp argument to the second."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "duration_us"


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(epoch_hour, "postgresql")
def _eh_pg(element: epoch_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (col,) = _args(element, compiler, **kw)
    return f"CAST(floor(extract(epoch FROM {col}) / 3600) AS BIGINT)"


def _sqlite_seconds(col: str) -> str:
    """Whole epoch seconds of a stored SQLite timestamp, truncated (never rounded up)."""
    return f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER)"


@compiles(epoch_hour, "sqlite")
def _eh_sqlite(element: epoch_hour, compiler: SQLCompiler, **kw: Any) -> str:
    (col,) = _args(element, compiler, **kw)
    return f"({_sqlite_seconds(col)} / 3600)"


@compiles(epoch_day, "postgresql")
def _ed_pg(element: epoch_day, compiler: SQLCompiler, **kw: Any) -> str:
    (col,) = _args(element, compiler, **kw)
    return f"CAST(floor(extract(epoch FROM {col}) / 86400) AS BIGINT)"


@compiles(epoch_day, "sqlite")
def _ed_sqlite(element: epoch_day, compiler: SQLCompiler, **kw: Any) -> str:
    (col,) = _args(element, compiler, **kw)
    return f"({_sqlite_seconds(col)} / 86400)"


@compiles(duration_us, "postgresql")
def _du_pg(element: duration_us, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _args(element, compiler, **kw)
    return f"CAST(extract(epoch FROM ({end} - {start})) * 1000000 AS BIGINT)"


@compiles(duration_us, "sqlite")
def _du_sqlite(element: duration_us, compiler: SQLCompiler, **kw: Any) -> str:
    # Whole seconds from the text without its fraction, microseconds from the fraction.
    start, end = _args(element, compiler, **kw)
    return (
        f"(({_sqlite_seconds(end)} - {_sqlite_seconds(start)}) * 1000000"
        f" + CAST(substr({end}, 21, 6) AS INTEGER) - CAST(substr({start}, 21, 6) AS INTEGER))"
    )


def hour_number(t: datetime) -> int:
    """Epoch hour of an aware datetime (floor)."""
    return int((t - EPOCH) // HOUR)


def day_number(t: datetime) -> int:
    """Epoch day of an aware datetime (floor)."""
    return int((t - EPOCH) // DAY)


def hour_start(hour: int) -> datetime:
    return EPOCH + hour * HOUR


def day_start(day: int) -> datetime:
    return EPOCH + day * DAY
