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
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...core.models import Priority
from ...settings.alerting import AlertingSettings
from ..escalation.policy import EscalationSnapshot
from ..tables import incidents
from .records import IncidentRecord, IncidentStatus

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


async def raise_priority(
    conn: AsyncConnection, settings: AlertingSettings, incident: IncidentRecord, to: Priority, now: datetime
) -> bool:
    """Give the incident priority ``to`` and that priority's escalation policy, if it still has the
    priority it was read with and is not resolved; whether this call won (an alert raising it,
    ``firing.py``, and money, ``impact.py``). The step reached is kept; a pending escalation comes
    no later than the new policy's wait for it."""
    snapshot = EscalationSnapshot.take(settings, to, taken_at=now)
    step = min(incident.escalation_step, max(0, len(snapshot.steps) - 1))
    next_at = incident.next_escalation_at
    if next_at is not None and snapshot.steps:
        next_at = min(next_at, now + snapshot.steps[step].wait)
    return await compare_and_set(
        conn,
        incident.id,
        NOT_RESOLVED,
        where=(
            incidents.c.priority == incident.priority.value,
            # and the escalation deadline it saw (an acknowledgement meanwhile cleared it)
            incidents.c.next_escalation_at.is_(None)
            if incident.next_escalation_at is None
            else incidents.c.next_escalation_at == incident.next_escalation_at,
        ),
        priority=to.value,
        escalation=snapshot.to_json(),
        escalation_step=step,
        next_escalation_at=next_at,
    )
