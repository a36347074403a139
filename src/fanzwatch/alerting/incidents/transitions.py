"""Guarded changes of an incident row: compare-and-set on what the caller saw.

Every status change is one ``UPDATE alerting_incidents SET ... WHERE id = :id AND
status IN (:expected) [AND ...]``, and the row count says whether this transaction won.
On PostgreSQL (READ COMMITTED) an UPDATE that meets a row another transaction holds
waits for it, then re-checks its ``WHERE`` against the committed row: the loser matches
nothing. On SQLite the database lock serialises writers. Nobody acts on a state read
earlier in the transaction without this check, so two replicas (or a human and
Alertmanager) never both apply a change, and nothing is overwritten half-way (the
"acknowledged but resolved" ghost of issue 13). The loser reads the row again to say
what happened instead.

>>> won = await compare_and_set(conn, 7, {IncidentStatus.TRIGGERED}, status="acknowledged")
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..tables import incidents
from .records import IncidentStatus

NOT_RESOLVED = frozenset(s for s in IncidentStatus if s is not IncidentStatus.RESOLVED)


async def compare_and_set(
    conn: AsyncConnection,
    incident_id: int,
    expected: Collection[IncidentStatus],
    *,
    where: Iterable[sa.ColumnElement[bool]] = (),
    **values: Any,
) -> bool:
    """Set ``values`` on the incident if its status is one of ``expected`` (and ``where`` holds)."""
    result = await conn.execute(
        incidents.update()
        .where(incidents.c.id == incident_id, incidents.c.status.in_([s.value for s in expected]), *where)
        .values(**values)
    )
    return int(result.rowcount or 0) == 1
