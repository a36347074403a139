"""The incident timeline: every thing that happened to an incident, in order."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from .tables import timeline

SYSTEM = "fanzwatch"
ALERTMANAGER = "alertmanager"


class TimelineKind(StrEnum):
    OPENED = "opened"
    ALERT_FIRED = "alert_fired"
    ALERT_RESOLVED = "alert_resolved"
    PRIORITY = "priority"
    NOTIFYING = "notifying"
    NOTIFIED = "notified"
    NOTIFICATION_FAILED = "notification_failed"
    NOTIFICATION_SUPERSEDED = "notification_superseded"  # queued, then no longer applied: not sent
    ESCALATED = "escalated"
    ESCALATION_EXHAUSTED = "escalation_exhausted"
    ACKNOWLEDGED = "acknowledged"
    NOTE = "note"
    REMEDIATION = "remediation"
    PAGED = "paged"
    RESOLVING = "resolving"
    STILL_OPEN = "still_open"
    RESOLVED = "resolved"
    REOPENED = "reopened"


def human(duration: timedelta) -> str:
    """``15 min``, ``1 h``, ``1 h 30 min``, ``45 s``: durations as people write them."""
    seconds = int(duration.total_seconds())
    if seconds < 60 or seconds % 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    return " ".join(part for part in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if part)


async def record(
    conn: AsyncConnection,
    incident_id: int,
    at: datetime,
    kind: TimelineKind,
    message: str,
    *,
    actor: str = SYSTEM,
    data: dict[str, Any] | None = None,
) -> None:
    """Append one entry (inside the caller's transaction)."""
    await conn.execute(
        timeline.insert().values(
            incident_id=incident_id, at=at, kind=kind.value, actor=actor[:128], message=message, data=data
        )
    )
