"""A notification that finally failed must not leave its incident unpaged (never only a metric).

Called by the outbox in the transaction that marked the row ``failed``. For a trigger or
page of an incident still waiting for someone (``triggered``) whose recipient was reached
on no other channel (nor is being: a failure there pages then):

1. the same message goes to each configured ``delivery.fallback_channels`` (not the one
   that failed; a fallback's own failure does not fall back again);
2. without a fallback, the incident's next escalation step is brought forward to now
   (guarded: ``WHERE status = 'triggered' AND next_escalation_at > now``), so the escalator
   pages the next people at its next round instead of after the step's wait.

Each outcome is on the timeline. Acknowledged or resolved incidents need nothing: a human
already has them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...settings.alerting import AlertingSettings
from ..incidents.records import IncidentStatus
from ..notify.base import Notification
from ..notify.outbox import LIVE, OPENING, enqueue
from ..tables import incidents, outbox
from ..timeline import TimelineKind, record

FALLBACK_MARK = ":fallback:"


class DeliveryFailover:
    def __init__(self, settings: AlertingSettings) -> None:
        self._fallbacks = settings.delivery.fallback_channels
        self._kinds = {c.name: c.kind for c in settings.channels}

    async def failed(self, conn: AsyncConnection, row: Any, n: Notification, now: datetime, why: str) -> None:
        if row.event not in OPENING or row.incident_id is None:
            return
        incident_id = int(row.incident_id)
        current = (
            await conn.execute(
                sa.select(incidents.c.status, incidents.c.next_escalation_at)
                .where(incidents.c.id == incident_id)
                .with_for_update()
            )
        ).first()
        if current is None or current.status != IncidentStatus.TRIGGERED.value:
            return
        reached = (
            await conn.execute(
                sa.select(outbox.c.channel)
                .where(
                    outbox.c.incident_id == incident_id,
                    outbox.c.recipient == row.recipient,
                    outbox.c.event.in_(OPENING),
                    outbox.c.status.in_(LIVE),
                    outbox.c.id != row.id,
                )
                .order_by(outbox.c.status.desc())  # 'sent' before 'pending'
                .limit(1)
            )
        ).scalar_one_or_none()
        if reached is not None:
            await record(
                conn,
                incident_id,
                now,
                TimelineKind.NOTIFICATION_FAILED,
                f"{row.recipient} is notified via {reached} too; nobody else paged for this failure",
            )
            return
        fallbacks = [] if FALLBACK_MARK in row.dedup_key else [c for c in self._fallbacks if c != row.channel]
        fallbacks = [c for c in fallbacks if c in self._kinds]
        if fallbacks:
            message = replace(n, reason=f"{n.reason}; delivery via {row.channel} failed ({why})", thread=None)
            for channel in fallbacks:
                await enqueue(
                    conn,
                    key=f"{row.dedup_key}{FALLBACK_MARK}{channel}",
                    channel=channel,
                    kind=self._kinds[channel],
                    notification=message,
                    now=now,
                )
            await record(
                conn,
                incident_id,
                now,
                TimelineKind.PAGED,
                f"Paging {row.recipient} via fallback {', '.join(fallbacks)}: {why}",
                data={"failed_channel": row.channel, "fallbacks": fallbacks},
            )
            return
        moved = await conn.execute(
            incidents.update()
            .where(
                incidents.c.id == incident_id,
                incidents.c.status == IncidentStatus.TRIGGERED.value,
                incidents.c.next_escalation_at > now,
            )
            .values(next_escalation_at=now)
        )
        if moved.rowcount == 1 or current.next_escalation_at is not None:
            text = f"Escalating now: {row.recipient} could not be notified ({why})"
        else:
            text = f"{row.recipient} could not be notified ({why}) and no escalation step is left"
        await record(conn, incident_id, now, TimelineKind.PAGED, text, data={"failed_channel": row.channel})
