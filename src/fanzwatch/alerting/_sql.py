"""Small SQL helpers that must behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ignore(
    conn: AsyncConnection, table: sa.Table, values: dict[str, Any], conflict: tuple[str, ...]
) -> int | None:
    """``INSERT ... ON CONFLICT (conflict) DO NOTHING``; the new row's id, or None if it existed.

    Atomic across server replicas: two transactions inserting the same key never both win,
    and the loser's transaction is not aborted (unlike catching an IntegrityError on PostgreSQL).
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    else:  # pragma: no cover - the store only supports these two
        raise RuntimeError(f"unsupported dialect {dialect}")
    result = await conn.execute(stmt.returning(table.c.id))
    row = result.first()
    return int(row[0]) if row is not None else None
