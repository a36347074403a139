"""Column types shared by every table: UTC timestamps, exact money, ids, platform slugs.

SQLite has no timestamp-with-time-zone type: SQLAlchemy stores ``DateTime`` there as an
ISO-like string and drops the offset. ``UtcDateTime`` makes both backends behave the
same way: it refuses naive datetimes on the way in, converts aware ones to UTC, and hands
back aware UTC datetimes on the way out. Because every stored value is UTC in one fixed
format, string comparison on SQLite orders timestamps correctly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator

#: Primary and foreign keys: 64-bit on PostgreSQL, SQLite's rowid alias (INTEGER) there.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Money: exact decimal with four places (covers JPY's 0, USD's 2 and BHD's 3 minor digits).
MONEY_SCALE = 4
Money = sa.Numeric(18, MONEY_SCALE, asdecimal=True)

#: Exchange rates need more precision than amounts.
Rate = sa.Numeric(24, 10, asdecimal=True)

#: A platform slug (``fanzwatch.core.platforms.PLATFORM_SLUG``: at most 32 characters).
Platform = sa.String(32)

#: An ISO 4217 currency code.
Currency = sa.String(3)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    Binding a naive datetime raises ``ValueError`` (a naive value's zone is unknowable);
    an aware one in any zone is converted to UTC first.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given: pass a timezone-aware datetime (UTC)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


class utc_now(sa.sql.functions.FunctionElement[datetime]):
    """The database's current UTC time, in the same textual format ``UtcDateTime`` writes on SQLite.

    Used as server default and ``onupdate`` of ``updated_at`` so rows written by any
    client compare correctly with rows written through SQLAlchemy.
    """

    type = UtcDateTime()
    inherit_cache = True
    name = "utc_now"


@compiles(utc_now, "sqlite")
def _utc_now_sqlite(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    # %f is seconds with 3 decimals; pad to the 6 digits SQLAlchemy's SQLite DateTime writes.
    return "(strftime('%Y-%m-%d %H:%M:%f000', 'now'))"


@compiles(utc_now)
def _utc_now_default(element: utc_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"
