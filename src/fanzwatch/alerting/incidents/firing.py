"""Firing alerts: open an incident, join one, reopen one, raise its priority.

Called by ``IncidentManager.apply`` inside the alert event's transaction, after the
event's idempotency key was recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...settings.alerting import AlertingSettings
from .._sql import insert_ignore
from ..escalation.escalator import Escalator
from ..escalation.policy import EscalationSnapshot
from ..metrics import AlertingMetrics
from ..notify.base import NotificationEvent
from ..payload import AlertmanagerAlert
from ..priority import Assessment, PriorityPolicy, highest
from ..remediation.planner import RemediationPlanner
from ..tables import alerts, incidents
from ..timeline import ALERTMANAGER, TimelineKind, record
from .correlation import Correlator, member_labels
from .holddown import HoldDown
from .records import AlertApplied, IncidentRecord, IncidentStatus, current_alert, load_incident
from .transitions import compare_and_set, raise_priority


class FiringHandler:
    def __init__(
        self,
        settings: AlertingSettings,
        escalator: Escalator,
        planner: RemediationPlanner,
        metrics: AlertingMetrics,
        hold_down: HoldDown,
        correlator: Correlator,
    ) -> None:
        self._settings = settings
        self._escalator = escalator
        self._planner = planner
        self._policy = PriorityPolicy(settings)
        self._metrics = metrics
        self._hold_down = hold_down
        self._correlator = correlator

    def _alert_values(self, alert: AlertmanagerAlert, assessment: Assessment) -> dict[str, Any]:
        return {
            "fingerprint": alert.fingerprint,
            "alertname": alert.alertname[:256],
            "status": "firing",
            "priority": assessment.priority.value,
            "labels": dict(alert.labels),
            "annotations": dict(alert.annotations),
            "starts_at": alert.starts_at,
            "ends_at": None,
        }

    async def fire(
        self, conn: AsyncConnection, alert: AlertmanagerAlert, group_key: str, now: datetime
    ) -> AlertApplied:
        assessment = self._policy.assess(alert.labels)
        # Before reading anything it decides on: a related alert on another replica waits here (correlation.py).
        await self._correlator.serialise(conn, alert)
        current = await current_alert(conn, alert.fingerprint)
        if current is not None and current.starts_at > alert.starts_at:
            return AlertApplied("stale", None)
        if current is not None and await self._still_open(conn, current.incident_id, alert, now):
            # Guarded: a newer firing committed since we read the row wins; this one is then stale.
            again = await conn.execute(
                alerts.update()
                .where(alerts.c.id == current.id, alerts.c.starts_at <= alert.starts_at)
                .values(**self._alert_values(alert, assessment), fired_count=alerts.c.fired_count + 1)
            )
            if not again.rowcount:
                return AlertApplied("stale", None)
            await record(
                conn,
                current.incident_id,
                now,
                TimelineKind.ALERT_FIRED,
                f"{alert.alertname} fired again (time {current.fired_count + 1})",
                actor=ALERTMANAGER,
                data={"fingerprint": alert.fingerprint},
            )
            return await self._after_fire(conn, current.incident_id, alert, assessment, now)
        row = (await conn.execute(sa.select(incidents).where(incidents.c.open_group_key == group_key))).first()
        if row is not None and await self._still_open(conn, int(row.id), alert, now):
            return await self._join(conn, IncidentRecord.from_row(row), alert, assessment, now)
        related = await self._correlator.find(conn, alert)
        if related is not None and await self._still_open(conn, related, alert, now):
            return await self._correlate(conn, related, alert, assessment, now)
        reopenable = (
            await conn.execute(
                sa.select(incidents)
                .where(
                    incidents.c.group_key == group_key,
                    incidents.c.status == IncidentStatus.RESOLVED.value,
                    incidents.c.resolved_by == ALERTMANAGER,
                    incidents.c.resolved_at >= now - self._settings.reopen_window,
                )
                .order_by(incidents.c.resolved_at.desc())
                .limit(1)
            )
        ).first()
        if reopenable is not None:
            return await self._reopen(conn, IncidentRecord.from_row(reopenable), alert, assessment, now)
        return await self._open(conn, alert, group_key, assessment, now)

    async def _still_open(
        self, conn: AsyncConnection, incident_id: int, alert: AlertmanagerAlert, now: datetime
    ) -> bool:
        """Whether ``alert`` can join the unresolved incident: a resolving one is kept open (hold-down),
        unless its hold-down just ended (then it is resolved now and the alert reopens it)."""
        incident = await load_incident(conn, incident_id)
        assert incident is not None
        if incident.status is IncidentStatus.RESOLVING:
            return await self._hold_down.resume(conn, incident, alert.alertname, now)
        return incident.status is not IncidentStatus.RESOLVED

    async def _join(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        alert: AlertmanagerAlert,
        assessment: Assessment,
        now: datetime,
    ) -> AlertApplied:
        await self._upsert_alert(conn, incident.id, alert, assessment)
        await record(
            conn,
            incident.id,
            now,
            TimelineKind.ALERT_FIRED,
            f"{alert.alertname} joined: {alert.annotations.get('summary', alert.alertname)}",
            actor=ALERTMANAGER,
            data={"fingerprint": alert.fingerprint, "labels": dict(alert.labels)},
        )
        return await self._after_fire(conn, incident.id, alert, assessment, now)

    async def _correlate(
        self, conn: AsyncConnection, incident_id: int, alert: AlertmanagerAlert, assessment: Assessment, now: datetime
    ) -> AlertApplied:
        """Join an incident of another group by probable cause; it is retitled to name all it covers."""
        await self._upsert_alert(conn, incident_id, alert, assessment)
        title = self._correlator.title(await member_labels(conn, incident_id))
        await conn.execute(incidents.update().where(incidents.c.id == incident_id).values(title=title))
        where = f" on {alert.labels['platform']}" if alert.labels.get("platform") else ""
        await record(
            conn,
            incident_id,
            now,
            TimelineKind.ALERT_FIRED,
            f"{alert.alertname}{where} joined by correlation (same probable cause): now {title}",
            actor=ALERTMANAGER,
            data={"fingerprint": alert.fingerprint, "labels": dict(alert.labels), "correlated": True},
        )
        return await self._after_fire(conn, incident_id, alert, assessment, now)

    async def _upsert_alert(
        self, conn: AsyncConnection, incident_id: int, alert: AlertmanagerAlert, assessment: Assessment
    ) -> None:
        values = self._alert_values(alert, assessment)
        # Insert-or-update that two replicas may run at once: the unique (incident, fingerprint)
        # key decides who inserts; the other increments.
        inserted = await insert_ignore(
            conn, alerts, {"incident_id": incident_id, "fired_count": 1, **values}, ("incident_id", "fingerprint")
        )
        if inserted is None:
            await conn.execute(
                alerts.update()
                .where(
                    alerts.c.incident_id == incident_id,
                    alerts.c.fingerprint == alert.fingerprint,
                    alerts.c.starts_at <= alert.starts_at,  # never an older firing over a newer one
                )
                .values(**values, fired_count=alerts.c.fired_count + 1)
            )

    async def _open(
        self, conn: AsyncConnection, alert: AlertmanagerAlert, group_key: str, assessment: Assessment, now: datetime
    ) -> AlertApplied:
        platform_label = alert.labels.get("platform")
        snapshot = EscalationSnapshot.take(self._settings, assessment.priority, taken_at=now)
        new_id = await insert_ignore(
            conn,
            incidents,
            {
                "group_key": group_key,
                "open_group_key": group_key,
                "title": (alert.alertname + (f" on {platform_label}" if platform_label else ""))[:512],
                "summary": alert.annotations.get("summary") or alert.annotations.get("description") or alert.alertname,
                "status": IncidentStatus.TRIGGERED.value,
                "priority": assessment.priority.value,
                "platform": self._metrics.platform(platform_label),
                "service": alert.labels.get("service"),
                "labels": dict(alert.labels),
                "runbook_url": (alert.annotations.get("runbook_url") or None),
                "opened_at": now,
                "escalation": snapshot.to_json(),
                "escalation_step": 0,
                "next_escalation_at": None,
            },
            ("open_group_key",),
        )
        if new_id is None:  # another replica opened this group's incident a moment ago
            row = (await conn.execute(sa.select(incidents).where(incidents.c.open_group_key == group_key))).one()
            return await self._join(conn, IncidentRecord.from_row(row), alert, assessment, now)
        await conn.execute(
            alerts.insert().values(incident_id=new_id, fired_count=1, **self._alert_values(alert, assessment))
        )
        summary = alert.annotations.get("summary", alert.alertname)
        await record(
            conn,
            new_id,
            now,
            TimelineKind.OPENED,
            f"Incident opened: {summary}",
            actor=ALERTMANAGER,
            data={"group_key": group_key},
        )
        await record(
            conn,
            new_id,
            now,
            TimelineKind.ALERT_FIRED,
            f"{alert.alertname} fired",
            actor=ALERTMANAGER,
            data={
                "fingerprint": alert.fingerprint,
                "labels": dict(alert.labels),
                "starts_at": alert.starts_at.isoformat(),
            },
        )
        await record(
            conn,
            new_id,
            now,
            TimelineKind.PRIORITY,
            self._priority_text(assessment),
            data={
                "priority": assessment.priority.value,
                "base": assessment.base.value,
                "reasons": list(assessment.reasons),
            },
        )
        incident = await load_incident(conn, new_id)
        assert incident is not None
        await self._escalator.start(conn, incident, now)
        await self._request_remediation(conn, incident, alert, now)
        return AlertApplied("applied", new_id)

    def _priority_text(self, a: Assessment) -> str:
        if not a.reasons:
            return f"Priority {a.priority.value}"
        return f"Priority {a.priority.value}, raised from {a.base.value}: {'; '.join(a.reasons)}"

    async def _reopen(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        alert: AlertmanagerAlert,
        assessment: Assessment,
        now: datetime,
    ) -> AlertApplied:
        status = IncidentStatus.ACKNOWLEDGED if incident.acknowledged_at else IncidentStatus.TRIGGERED
        steps = incident.escalation.steps
        step = min(incident.escalation_step, len(steps) - 1) if steps else 0
        next_at = now + steps[step].wait if steps and status is IncidentStatus.TRIGGERED else None
        won = await compare_and_set(
            conn,
            incident.id,
            {IncidentStatus.RESOLVED},
            where=(incidents.c.resolved_at == incident.resolved_at,),
            status=status.value,
            open_group_key=incident.group_key,
            resolved_at=None,
            resolved_by=None,
            reopen_count=incidents.c.reopen_count + 1,
            escalation_step=step,
            next_escalation_at=next_at,
        )
        if not won:  # another replica reopened it (or a human touched it) since we read it: start over
            return await self.fire(conn, alert, incident.group_key, now)
        await self._upsert_alert(conn, incident.id, alert, assessment)
        gap = (now - incident.resolved_at).total_seconds() if incident.resolved_at else 0.0
        await record(
            conn,
            incident.id,
            now,
            TimelineKind.REOPENED,
            f"Reopened: {alert.alertname} fired again {gap:.0f} s after the incident resolved",
            actor=ALERTMANAGER,
            data={"fingerprint": alert.fingerprint, "reopen_count": incident.reopen_count + 1},
        )
        reopened = await load_incident(conn, incident.id)
        assert reopened is not None
        if status is IncidentStatus.TRIGGERED:
            await self._escalator.notify_involved(
                conn, reopened, NotificationEvent.REOPEN, now, reason=f"{alert.alertname} fired again"
            )
        return await self._after_fire(conn, incident.id, alert, assessment, now)

    async def _after_fire(
        self,
        conn: AsyncConnection,
        incident_id: int,
        alert: AlertmanagerAlert,
        assessment: Assessment,
        now: datetime,
    ) -> AlertApplied:
        incident = await load_incident(conn, incident_id)
        assert incident is not None
        if highest(incident.priority, assessment.priority) != incident.priority:
            if self._correlator.is_meta(alert.labels):
                # A meta alert (the anomaly engine's) is a second opinion on series the rules watch:
                # by itself it never raises an incident's priority.
                await record(
                    conn,
                    incident.id,
                    now,
                    TimelineKind.PRIORITY,
                    f"Priority stays {incident.priority.value}: {alert.alertname} ({assessment.priority.value}) "
                    "does not raise an incident's priority by itself",
                    data={"kept": incident.priority.value, "alert": assessment.priority.value},
                )
            else:
                incident = await self._raise(conn, incident, alert, assessment, now)
        await self._request_remediation(conn, incident, alert, now)
        return AlertApplied("applied", incident_id)

    async def _raise(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        alert: AlertmanagerAlert,
        assessment: Assessment,
        now: datetime,
    ) -> IncidentRecord:
        """A more urgent alert joined: the incident takes its priority and that priority's policy."""
        won = await raise_priority(conn, self._settings, incident, assessment.priority, now)
        if not won:  # raised (or closed) by another replica meanwhile: judge again from the row as it is now
            current = await load_incident(conn, incident.id)
            assert current is not None
            if (
                current.status is IncidentStatus.RESOLVED
                or highest(current.priority, assessment.priority) == current.priority
            ):
                return current
            return await self._raise(conn, current, alert, assessment, now)
        why = f" ({'; '.join(assessment.reasons)})" if assessment.reasons else ""
        await record(
            conn,
            incident.id,
            now,
            TimelineKind.PRIORITY,
            f"Priority raised {incident.priority.value} → {assessment.priority.value}: {alert.alertname}{why}",
            data={"from": incident.priority.value, "to": assessment.priority.value},
        )
        raised = await load_incident(conn, incident.id)
        assert raised is not None
        return raised

    async def _request_remediation(
        self, conn: AsyncConnection, incident: IncidentRecord, alert: AlertmanagerAlert, now: datetime
    ) -> None:
        await self._planner.request(
            conn,
            incident_id=incident.id,
            fingerprint=alert.fingerprint,
            platform=self._metrics.platform(alert.labels.get("platform")),
            labels=alert.labels,
            now=now,
        )
