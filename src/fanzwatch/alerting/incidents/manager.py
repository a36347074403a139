"""Alert events in, incident changes out: idempotency, ordering, resolution (firing: ``firing.py``).

``apply`` runs inside one transaction per alert event. Its first statement records the
event's key (fingerprint, status, startsAt) with ``INSERT ... ON CONFLICT DO NOTHING``:
a replayed or HA-duplicated alert finds the key taken and changes nothing, atomically,
even with several server replicas. A firing event whose resolution was already seen
(deliveries out of order) is stale and ignored.

Grouping: alerts join the open incident of their group (Alertmanager's ``groupKey``, or
the configured ``group_by`` labels when the route sent them ungrouped). A group that
fires again within ``reopen_window`` of its incident resolving by itself reopens it, so
a flapping alert stays one incident instead of paging anew every time. Before that, the
last alert resolving starts the hold-down (``holddown.py``): within it, firing again is
not even a reopen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...settings.alerting import AlertingSettings
from .._sql import insert_ignore
from ..escalation.escalator import Escalator
from ..metrics import AlertingMetrics
from ..notify.base import NotificationEvent
from ..payload import AlertmanagerAlert, AlertmanagerPayload
from ..remediation.planner import RemediationPlanner
from ..tables import alert_events, alerts
from ..timeline import ALERTMANAGER, TimelineKind, record
from .correlation import Correlator, Explains
from .firing import FiringHandler
from .holddown import HoldDown
from .records import AlertApplied, IncidentRecord, IncidentStatus, current_alert, load_incident
from .transitions import NOT_RESOLVED, compare_and_set

_KEY_LIMIT = 480


def _bounded(prefix: str, text: str) -> str:
    if len(text) <= _KEY_LIMIT:
        return prefix + text
    return prefix + "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class IncidentManager:
    def __init__(
        self,
        settings: AlertingSettings,
        escalator: Escalator,
        planner: RemediationPlanner,
        metrics: AlertingMetrics,
        *,
        explains: Sequence[Explains] = (),
        meta_alerts: Iterable[str] = (),
    ) -> None:
        self._settings = settings
        self._escalator = escalator
        self._planner = planner
        self.hold_down = HoldDown(settings.hold_down, self.close)
        self.correlator = Correlator(
            explains,
            settings.correlation_window,
            symptom_window=settings.symptom_window,
            symptom_lead=settings.symptom_lead,
            meta_alerts=meta_alerts,
        )
        self._firing = FiringHandler(settings, escalator, planner, metrics, self.hold_down, self.correlator)

    def group_key(self, payload: AlertmanagerPayload, alert: AlertmanagerAlert) -> str:
        """Which incident group ``alert`` belongs to."""
        if payload.ungrouped:
            chosen = {name: alert.labels.get(name, "") for name in self._settings.group_by}
            return _bounded("labels:", json.dumps(chosen, sort_keys=True, separators=(",", ":")))
        return _bounded("am:", payload.group_key)

    async def apply(
        self, conn: AsyncConnection, alert: AlertmanagerAlert, group_key: str, now: datetime
    ) -> AlertApplied:
        """Apply one alert event; idempotent by (fingerprint, status, startsAt)."""
        event_id = await insert_ignore(
            conn,
            alert_events,
            {
                "fingerprint": alert.fingerprint,
                "status": alert.status,
                "starts_at": alert.starts_at,
                "received_at": now,
            },
            ("fingerprint", "status", "starts_at"),
        )
        if event_id is None:
            return AlertApplied("duplicate", None)
        if alert.status == "firing":
            resolved_first = (
                await conn.execute(
                    sa.select(alert_events.c.id).where(
                        alert_events.c.fingerprint == alert.fingerprint,
                        alert_events.c.status == "resolved",
                        alert_events.c.starts_at == alert.starts_at,
                    )
                )
            ).first()
            outcome = (
                AlertApplied("stale", None) if resolved_first else await self._firing.fire(conn, alert, group_key, now)
            )
        else:
            outcome = await self._resolve_alert(conn, alert, now)
        if outcome.incident_id is not None:
            await conn.execute(
                alert_events.update().where(alert_events.c.id == event_id).values(incident_id=outcome.incident_id)
            )
        return outcome

    async def _resolve_alert(self, conn: AsyncConnection, alert: AlertmanagerAlert, now: datetime) -> AlertApplied:
        current = await current_alert(conn, alert.fingerprint)
        if current is None:
            return AlertApplied("applied", None)  # its incident was closed by a human, or it never fired here
        if current.starts_at > alert.starts_at:
            return AlertApplied("stale", None)  # the end of an earlier firing, delivered late
        if current.status == "resolved":
            return AlertApplied("applied", current.incident_id)
        # Guarded on the firing it ends too: a firing from a later startsAt, committed while this
        # waited for the row, is still firing and must stay so (the row re-checked here is its).
        ended = await conn.execute(
            alerts.update()
            .where(alerts.c.id == current.id, alerts.c.status == "firing", alerts.c.starts_at <= alert.starts_at)
            .values(status="resolved", ends_at=alert.ends_at)
        )
        if not ended.rowcount:  # another replica resolved this alert a moment ago, or it fired anew
            return AlertApplied("applied", current.incident_id)
        await record(
            conn,
            current.incident_id,
            now,
            TimelineKind.ALERT_RESOLVED,
            f"{alert.alertname}{f' on {p}' if (p := alert.labels.get('platform')) else ''} resolved",
            actor=ALERTMANAGER,
            data={"fingerprint": alert.fingerprint, "ends_at": alert.ends_at.isoformat()},
        )
        await self._planner.alert_resolved(
            conn, incident_id=current.incident_id, fingerprint=alert.fingerprint, now=now
        )
        firing = (
            await conn.execute(
                sa.select(sa.func.count()).where(
                    alerts.c.incident_id == current.incident_id, alerts.c.status == "firing"
                )
            )
        ).scalar_one()
        if firing == 0:
            incident = await load_incident(conn, current.incident_id)
            assert incident is not None
            if self.hold_down.enabled:
                await self.hold_down.begin(conn, incident, now)
            else:
                await self.close(conn, incident, now, by=ALERTMANAGER, message="Resolved: all of its alerts resolved")
        return AlertApplied("applied", current.incident_id)

    async def close(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        now: datetime,
        *,
        by: str,
        message: str,
        note: str | None = None,
        expected: Collection[IncidentStatus] = NOT_RESOLVED,
        where: Iterable[sa.ColumnElement[bool]] = (),
    ) -> IncidentRecord | None:
        """Mark resolved, stop escalating, tell everyone notified so far; None if it was resolved meanwhile.

        A guarded compare-and-set: of a human and Alertmanager (or two replicas) resolving
        at once, exactly one records the resolution and queues its notifications.
        """
        won = await compare_and_set(
            conn,
            incident.id,
            expected,
            where=where,
            status=IncidentStatus.RESOLVED.value,
            resolved_at=now,
            resolved_by=by[:128],
            open_group_key=None,
            next_escalation_at=None,
            resolve_after=None,
        )
        if not won:
            return None
        if note:
            await record(conn, incident.id, now, TimelineKind.NOTE, note, actor=by)
        await record(conn, incident.id, now, TimelineKind.RESOLVED, message, actor=by)
        closed = await load_incident(conn, incident.id)
        assert closed is not None
        await self._escalator.notify_involved(conn, closed, NotificationEvent.RESOLVE, now, reason=message)
        return closed
