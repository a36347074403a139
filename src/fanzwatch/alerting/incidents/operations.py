"""What people do to incidents: acknowledge, resolve, add a note.

Each is one transaction; a change that does not apply (acknowledging a resolved
incident) raises ``IncidentStateError`` with a message saying why, and changes nothing.
Acknowledging twice is not an error: the second changes nothing and says so.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from ...core.errors import FanzwatchError
from ..escalation.escalator import Escalator
from ..metrics import AlertingMetrics
from ..notify.base import NotificationEvent
from ..remediation.planner import RemediationPlanner
from ..tables import incidents
from ..timeline import TimelineKind, record
from .manager import IncidentManager
from .records import IncidentRecord, IncidentStatus, load_incident


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
            incident = await load_incident(conn, incident_id)
            if incident is None:
                raise IncidentNotFoundError(incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                raise IncidentStateError(f"incident {incident_id} is already resolved; there is nothing to acknowledge")
            if incident.status is IncidentStatus.ACKNOWLEDGED:
                return incident, False
            await conn.execute(
                incidents.update()
                .where(incidents.c.id == incident_id)
                .values(
                    status=IncidentStatus.ACKNOWLEDGED.value,
                    acknowledged_at=now,
                    acknowledged_by=by[:128],
                    next_escalation_at=None,
                )
            )
            waited = (now - incident.opened_at).total_seconds()
            await record(
                conn,
                incident_id,
                now,
                TimelineKind.ACKNOWLEDGED,
                f"Acknowledged by {by} after {waited:.0f} s; escalation stopped",
                actor=by,
            )
            acked = await load_incident(conn, incident_id)
            assert acked is not None
            await self._escalator.notify_involved(
                conn, acked, NotificationEvent.ACKNOWLEDGE, now, reason=f"acknowledged by {by}"
            )
        self._metrics.time_to_ack.labels(incident.platform, incident.priority.value).observe(max(0.0, waited))
        return acked, True

    async def resolve(self, incident_id: int, *, by: str, now: datetime, note: str | None = None) -> IncidentRecord:
        async with self._engine.begin() as conn:
            incident = await load_incident(conn, incident_id)
            if incident is None:
                raise IncidentNotFoundError(incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                raise IncidentStateError(f"incident {incident_id} is already resolved")
            if note:
                await record(conn, incident_id, now, TimelineKind.NOTE, note, actor=by)
            await self._planner.incident_closed(conn, incident_id=incident_id, by=by, now=now)
            await self._manager.close(conn, incident, now, by=by, message=f"Resolved by {by}")
            closed = await load_incident(conn, incident_id)
            assert closed is not None
        return closed

    async def add_note(self, incident_id: int, *, by: str, text: str, now: datetime) -> None:
        async with self._engine.begin() as conn:
            if await load_incident(conn, incident_id) is None:
                raise IncidentNotFoundError(incident_id)
            await record(conn, incident_id, now, TimelineKind.NOTE, text, actor=by)
