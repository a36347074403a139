"""An incident as read from the store, and its lifecycle states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...core.models import Priority
from ..escalation.policy import EscalationSnapshot
from ..tables import alerts, incidents


class IncidentStatus(StrEnum):
    """``triggered`` ⇄ ``acknowledged`` → ``resolving`` → ``resolved``.

    ``resolving``: every alert resolved, the hold-down (``AlertingSettings.hold_down``)
    runs; an alert firing again returns the incident to ``triggered`` or ``acknowledged``
    (whichever it was, by ``acknowledged_at``) without telling anyone; otherwise it becomes
    ``resolved`` at ``resolve_after``. A resolved incident firing again within
    ``reopen_window`` reopens.
    """

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVING = "resolving"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    group_key: str
    title: str
    summary: str
    status: IncidentStatus
    priority: Priority
    platform: str
    service: str | None
    labels: dict[str, str]
    runbook_url: str | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    reopen_count: int
    resolve_after: datetime | None
    escalation: EscalationSnapshot
    escalation_step: int
    next_escalation_at: datetime | None
    impact: dict[str, Any] | None = None
    """The business impact fanzwatch.impact stored (see core.impact.money_sentence)."""

    @classmethod
    def from_row(cls, row: Any) -> IncidentRecord:
        m = row._mapping
        return cls(
            id=int(m["id"]),
            group_key=m["group_key"],
            title=m["title"],
            summary=m["summary"],
            status=IncidentStatus(m["status"]),
            priority=Priority(m["priority"]),
            platform=m["platform"],
            service=m["service"],
            labels=dict(m["labels"]),
            runbook_url=m["runbook_url"],
            opened_at=m["opened_at"],
            acknowledged_at=m["acknowledged_at"],
            acknowledged_by=m["acknowledged_by"],
            resolved_at=m["resolved_at"],
            resolved_by=m["resolved_by"],
            reopen_count=int(m["reopen_count"]),
            resolve_after=m["resolve_after"],
            escalation=EscalationSnapshot.from_json(m["escalation"]),
            escalation_step=int(m["escalation_step"]),
            next_escalation_at=m["next_escalation_at"],
            impact=m["impact"] if isinstance(m["impact"], dict) else None,
        )


async def load_incident(conn: AsyncConnection, incident_id: int) -> IncidentRecord | None:
    row = (await conn.execute(sa.select(incidents).where(incidents.c.id == incident_id))).first()
    return IncidentRecord.from_row(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class AlertApplied:
    result: str  # applied, duplicate or stale
    incident_id: int | None


async def current_alert(conn: AsyncConnection, fingerprint: str) -> Any:
    """The alert's row in a not-yet-resolved incident (None when no open incident holds it)."""
    return (
        await conn.execute(
            sa.select(alerts)
            .join(incidents, incidents.c.id == alerts.c.incident_id)
            .where(alerts.c.fingerprint == fingerprint, incidents.c.status != IncidentStatus.RESOLVED.value)
        )
    ).first()
