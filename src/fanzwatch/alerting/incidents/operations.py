"""What people do to incidents: acknowledge, resolve, add a note.

Each is one transaction whose change is a guarded compare-and-set (``transitions``): a
change that does not apply (acknowledging a resolved incident), or that lost a race to
another one (a resolve committed while this acknowledge ran), raises
``IncidentStateError`` with a message saying why, and changes nothing. Acknowledging
twice is not an error: the second changes nothing and says so.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.errors import FanzwatchError
from ..escalation.escalator import Escalator
from ..metrics import AlertingMetrics
from ..notify.base import NotificationEvent
from ..remediation.planner import RemediationPlanner
from ..tables import incidents
from ..timeline import TimelineKind, record
from .manager import IncidentManager
from .records import IncidentRecord, IncidentStatus, load_incident
from .transitions import compare_and_set


class IncidentNotFoundError(FanzwatchError, LookupError):
    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident {incident_id} does not exist")
        self.incident_id = incident_id


class IncidentStateError(FanzwatchError, ValueError):
    """The incident is in a state where the change does not apply."""


class IncidentOperations:
    def __init__(
        self,
        engine: AsyncEngine,
        manager: IncidentManager,
        escalator: Escalator,
        planner: RemediationPlanner,
        metrics: AlertingMetrics,
    ) -> None:
        self._engine = engine
        self._manager = manager
        self._escalator = escalator
        self._planner = planner
        self._metrics = metrics

    async def acknowledge(self, incident_id: int, *, by: str, now: datetime) -> tuple[IncidentRecord, bool]:
        """Stop the escalation; (the incident, whether this call changed it)."""
        async with self._engine.begin() as conn:
            incident = await _existing(conn, incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                raise _already_resolved(incident_id)
            if incident.acknowledged_at is not None:
                return incident, False
            won = await compare_and_set(
                conn,
                incident_id,
                {IncidentStatus.TRIGGERED, IncidentStatus.RESOLVING},
                where=(incidents.c.acknowledged_at.is_(None),),
                # a resolving incident stays resolving (and comes back acknowledged if it fires again)
                status=sa.case(
                    (incidents.c.status == IncidentStatus.RESOLVING.value, IncidentStatus.RESOLVING.value),
                    else_=IncidentStatus.ACKNOWLEDGED.value,
                ),
                acknowledged_at=now,
                acknowledged_by=by[:128],
                next_escalation_at=None,
            )
            if not won:  # someone acknowledged or resolved it since we read it
                current = await _existing(conn, incident_id)
                if current.status is IncidentStatus.RESOLVED:
                    raise _already_resolved(incident_id)
                return current, False
            waited = (now - incident.opened_at).total_seconds()
            await record(
                conn,
                incident_id,
                now,
                TimelineKind.ACKNOWLEDGED,
                f"Acknowledged by {by} after {waited:.0f} s; escalation stopped",
                actor=by,
            )
            acked = await _existing(conn, incident_id)
            await self._escalator.notify_involved(
                conn, acked, NotificationEvent.ACKNOWLEDGE, now, reason=f"acknowledged by {by}"
            )
        self._metrics.time_to_ack.labels(incident.platform, incident.priority.value).observe(max(0.0, waited))
        return acked, True

    async def resolve(self, incident_id: int, *, by: str, now: datetime, note: str | None = None) -> IncidentRecord:
        async with self._engine.begin() as conn:
            incident = await _existing(conn, incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                raise IncidentStateError(f"incident {incident_id} is already resolved")
            closed = await self._manager.close(conn, incident, now, by=by, message=f"Resolved by {by}", note=note)
            if closed is None:  # resolved by someone else since we read it
                raise IncidentStateError(f"incident {incident_id} is already resolved")
            await self._planner.incident_closed(conn, incident_id=incident_id, by=by, now=now)
        return closed

    async def add_note(self, incident_id: int, *, by: str, text: str, now: datetime) -> None:
        """A note on any incident, open or resolved (the foreign key keeps it attached)."""
        async with self._engine.begin() as conn:
            await _existing(conn, incident_id)
            await record(conn, incident_id, now, TimelineKind.NOTE, text, actor=by)


async def _existing(conn: AsyncConnection, incident_id: int) -> IncidentRecord:
    incident = await load_incident(conn, incident_id)
    if incident is None:
        raise IncidentNotFoundError(incident_id)
    return incident


def _already_resolved(incident_id: int) -> IncidentStateError:
    return IncidentStateError(f"incident {incident_id} is already resolved; there is nothing to acknowledge")
