"""Writing rollup rows: bulk inserts, daily sums of hourly rows, emptiness checks (shared by the refreshers)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ._plan import in_int_ranges
from ._ranges import chunks


def bulk_insert(conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert tuples in the table's column order: ``COPY`` on PostgreSQL (tens of times faster), else executemany."""
    columns = [c.name for c in table.columns]
    if conn.dialect.name != "postgresql":
        conn.execute(sa.insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    driver: Any = conn.connection.driver_connection  # psycopg's; the same connection, so the same transaction
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def roll_up_days(
    conn: Connection,
    hourly: sa.Table,
    daily: sa.Table,
    dims: list[str],
    measures: list[str],
    day_ranges: list[tuple[int, int]],
) -> None:
    """Replace ``daily``'s rows of ``day_ranges`` by the sums of ``hourly``'s rows of those days."""
    for group in chunks(day_ranges):
        conn.execute(sa.delete(daily).where(in_int_ranges(daily.c.day, group)))
        day = hourly.c.hour // sa.literal_column("24")  # a literal, so SELECT and GROUP BY match textually
        keys = [hourly.c[d] for d in dims]
        rollup = (
            sa.select(day, hourly.c.platform, *keys, *(sa.func.sum(hourly.c[m]) for m in measures))
            .where(in_int_ranges(hourly.c.hour, [(a * 24, b * 24) for a, b in group]))
            .group_by(day, hourly.c.platform, *keys)
            .order_by(day, hourly.c.platform, *keys)
        )
        conn.execute(sa.insert(daily).from_select(["day", "platform", *dims, *measures], rollup))


def is_empty(conn: Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is None
