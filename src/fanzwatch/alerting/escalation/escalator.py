"""Running escalation policies: who is notified, when, and the timeline of it.

Step 0 runs when the incident opens. If nobody acknowledges within the step's wait
(the priority's response target by default), the next step runs, and so on until the
policy is exhausted. Deadlines chain from the previous deadline, not from when the
tick happened to run, so a late tick catches up exactly. Everything is driven by
``run_due(now)`` with an injectable clock: tests move a ``FrozenClock``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.errors import FanzwatchError
from ...core.impact import money_sentence
from ...settings.alerting import AlertingSettings
from ..incidents.records import IncidentRecord, IncidentStatus
from ..notify.base import Notification, NotificationEvent
from ..notify.outbox import (
    FOLLOW_UP,
    LIVE,
    OPENING,
    OutboxStatus,
    channel_history,
    enqueue,
    reopen_send_time,
    supersede_queued,
)
from ..tables import incidents, outbox
from ..timeline import TimelineKind, human, record
from .policy import Recipient, resolve_targets

INCIDENT_PAGE = "/dash/incidents/{id}"
"""Where a person reads an incident: FanzDash's incident page, as the server mounts it."""


class Escalator:
    """Queues the notifications of escalation steps, acks, resolutions and pages.

    Every notification links to ``incident_page`` (``{id}``: the incident's id) under the
    configured ``external_url``: the page a person opens from Slack, PagerDuty or an
    e-mail, not the JSON API behind it.
    """

    def __init__(self, settings: AlertingSettings, *, incident_page: str = INCIDENT_PAGE) -> None:
        self._settings = settings
        self._kinds = {c.name: c.kind for c in settings.channels}
        self._base_url = settings.external_url.rstrip("/")
        self._incident_page = "/" + incident_page.lstrip("/")

    def incident_url(self, incident_id: int) -> str:
        return self._base_url + self._incident_page.format(id=incident_id)

    def _notification(
        self,
        incident: IncidentRecord,
        event: NotificationEvent,
        now: datetime,
        *,
        recipient: str,
        address: str | None,
        reason: str,
        step: str | None,
        status: IncidentStatus | None = None,
    ) -> Notification:
        return Notification(
            event=event,
            incident_id=incident.id,
            title=incident.title,
            summary=incident.summary,
            priority=incident.priority.value,
            status=(status or incident.status).value,
            platform=incident.platform,
            service=incident.service,
            reason=reason,
            recipient=recipient,
            address=address,
            step=step,
            runbook_url=incident.runbook_url,
            incident_url=self.incident_url(incident.id),
            at=now,
            labels=incident.labels,
            money=money_sentence(incident.impact),
        )

    async def _notify(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        recipients: Iterable[Recipient],
        event: NotificationEvent,
        now: datetime,
        *,
        key: str,
        reason: str,
        step: str | None,
    ) -> list[str]:
        lines = []
        for r in recipients:
            channels = [c for c in r.channels if c in self._kinds]
            for channel in channels:
                n = self._notification(
                    incident, event, now, recipient=r.user, address=r.email, reason=reason, step=step
                )
                await enqueue(
                    conn,
                    key=f"{key}:{r.user}:{channel}",
                    channel=channel,
                    kind=self._kinds[channel],
                    notification=n,
                    now=now,
                )
            lines.append(f"{r.user} ({r.via}) via {', '.join(channels) or 'no channel'}")
        return lines

    async def run_step(self, conn: AsyncConnection, incident: IncidentRecord, index: int, now: datetime) -> None:
        """Notify the targets of step ``index`` (timeline says who, or why nobody)."""
        step = incident.escalation.steps[index]
        recipients, problems = resolve_targets(self._settings, step.targets, now)
        kind = TimelineKind.NOTIFYING if index == 0 else TimelineKind.ESCALATED
        why = (
            "incident opened"
            if index == 0
            else f"not acknowledged within {human(incident.escalation.steps[index - 1].wait)} of the previous step"
        )
        lines = await self._notify(
            conn,
            incident,
            recipients,
            NotificationEvent.TRIGGER,
            now,
            key=f"{incident.id}:r{incident.reopen_count}:trigger:{index}",
            reason=f"escalation step {index + 1} ({step.name}): {why}",
            step=step.name,
        )
        who = "; ".join(lines) if lines else "nobody"
        extra = f" ({'; '.join(problems)})" if problems else ""
        await record(
            conn,
            incident.id,
            now,
            kind,
            f"Step {index + 1} ({step.name}): notifying {who}{extra}",
            data={"step": index, "targets": list(step.targets), "recipients": [r.user for r in recipients]},
        )

    async def start(self, conn: AsyncConnection, incident: IncidentRecord, now: datetime) -> None:
        """Run step 0 of a new incident and set its first deadline (in the transaction that opened it).

        Guarded: only a still-triggered incident whose escalation has not started gets it;
        otherwise the step's notifications roll back with the caller's transaction.
        """
        steps = incident.escalation.steps
        if not steps:
            await record(conn, incident.id, now, TimelineKind.NOTIFYING, "No escalation policy: nobody to notify")
            return
        await self.run_step(conn, incident, 0, now)
        started = await conn.execute(
            incidents.update()
            .where(
                incidents.c.id == incident.id,
                incidents.c.status == IncidentStatus.TRIGGERED.value,
                incidents.c.next_escalation_at.is_(None),
            )
            .values(escalation_step=0, next_escalation_at=now + steps[0].wait)
        )
        if started.rowcount != 1:
            raise EscalationConflictError(f"incident {incident.id} changed while its escalation was starting")

    async def notify_involved(
        self, conn: AsyncConnection, incident: IncidentRecord, event: NotificationEvent, now: datetime, *, reason: str
    ) -> int:
        """Tell everyone already notified about this incident (ack, resolve, reopen); how many channels.

        Once per channel (and per address for e-mail): PagerDuty gets one acknowledge for
        its incident, a Slack channel one message, however many people were paged there.
        An acknowledgement or resolution first supersedes the opening messages not yet
        out, then goes only where an opening message was (or may still be) delivered, and
        not twice in a row: a channel told "resolved" is not told "resolved" again.
        Call it in the transaction of the incident's change, after that change won.
        """
        follow_up = event.value in FOLLOW_UP
        status = {
            NotificationEvent.ACKNOWLEDGE: IncidentStatus.ACKNOWLEDGED,
            NotificationEvent.RESOLVE: IncidentStatus.RESOLVED,
        }.get(event, IncidentStatus.TRIGGERED)
        if follow_up:
            await supersede_queued(conn, incident.id, now, because=f"the incident was {status.value}")
        # A reopen goes to everyone an opening message was meant for, even if it never went out.
        statuses = LIVE if follow_up else (*LIVE, OutboxStatus.SUPERSEDED.value, OutboxStatus.FAILED.value)
        rows = (
            await conn.execute(
                sa.select(outbox.c.recipient, outbox.c.channel, outbox.c.payload)
                .where(
                    outbox.c.incident_id == incident.id,
                    outbox.c.event.in_(OPENING),
                    outbox.c.status.in_(statuses),
                )
                .order_by(outbox.c.id)
            )
        ).all()
        groups: dict[tuple[str, str | None], list[str]] = {}
        for row in rows:
            if row.channel not in self._kinds:
                continue
            address = row.payload.get("address") if self._kinds[row.channel] == "email" else None
            users = groups.setdefault((row.channel, address), [])
            if row.recipient not in users:
                users.append(row.recipient)
        queued = 0
        held: list[str] = []
        for (channel, address), users in groups.items():
            not_before = None
            if follow_up:
                history = await channel_history(conn, incident.id, channel, address=address)
                if history and history[-1].event == event.value:
                    continue  # this channel already has this news
            elif event is NotificationEvent.REOPEN:
                hold = self._settings.hold_down
                not_before = await reopen_send_time(
                    conn, incident.id, channel, address=address, now=now, hold_down=hold
                )
                if not_before is None:
                    continue  # its resolve never went out: for this channel the incident never ended
                if not_before > now:
                    held.append(f"{channel} until {not_before.strftime('%H:%M:%S')} UTC")
            n = self._notification(
                incident,
                event,
                now,
                recipient=", ".join(users),
                address=address,
                reason=reason,
                step=None,
                status=status,
            )
            queued += await enqueue(
                conn,
                key=f"{incident.id}:r{incident.reopen_count}:{event.value}:{channel}:{address or '-'}",
                channel=channel,
                kind=self._kinds[channel],
                notification=n,
                now=now,
                not_before=not_before,
            )
        if held:
            await record(
                conn,
                incident.id,
                now,
                TimelineKind.NOTIFYING,
                f"Reopen held for {', '.join(held)}: one trigger per channel per {human(self._settings.hold_down)}",
            )
        return queued

    async def page(
        self, conn: AsyncConnection, incident: IncidentRecord, now: datetime, *, key: str, reason: str
    ) -> list[str]:
        """A human is needed now: page the targets of the incident's current step.

        Takes the incident's row lock first (so the page is ordered with a concurrent
        acknowledgement or resolution) and pages nobody once the incident is resolved.
        """
        current = (
            await conn.execute(sa.select(incidents.c.status).where(incidents.c.id == incident.id).with_for_update())
        ).scalar_one_or_none()
        if current is None:
            return []
        if current == IncidentStatus.RESOLVED.value:
            await record(conn, incident.id, now, TimelineKind.PAGED, f"Not paging ({reason}): the incident is resolved")
            return []
        steps = incident.escalation.steps
        if not steps:
            await record(conn, incident.id, now, TimelineKind.PAGED, f"Nobody to page ({reason}): no policy")
            return []
        step = steps[min(incident.escalation_step, len(steps) - 1)]
        recipients, problems = resolve_targets(self._settings, step.targets, now)
        lines = await self._notify(
            conn,
            incident,
            recipients,
            NotificationEvent.PAGE,
            now,
            key=f"{incident.id}:page:{key}",
            reason=reason,
            step=step.name,
        )
        extra = f" ({'; '.join(problems)})" if problems else ""
        await record(
            conn,
            incident.id,
            now,
            TimelineKind.PAGED,
            f"Paging {'; '.join(lines) or 'nobody'}: {reason}{extra}",
            data={"recipients": [r.user for r in recipients]},
        )
        return [r.user for r in recipients]

    async def run_due(self, engine: AsyncEngine, now: datetime) -> list[int]:
        """Escalate every triggered incident whose deadline passed; the ids escalated."""
        async with engine.connect() as conn:
            ids = (
                (
                    await conn.execute(
                        sa.select(incidents.c.id)
                        .where(
                            incidents.c.status == IncidentStatus.TRIGGERED.value, incidents.c.next_escalation_at <= now
                        )
                        .order_by(incidents.c.next_escalation_at)
                    )
                )
                .scalars()
                .all()
            )
        done = []
        for incident_id in ids:
            try:
                async with engine.begin() as conn:
                    if await self._escalate(conn, int(incident_id), now):
                        done.append(int(incident_id))
            except _LostRace:
                pass  # another replica escalated it; this transaction rolled back
        return done

    async def _escalate(self, conn: AsyncConnection, incident_id: int, now: datetime) -> bool:
        row = (await conn.execute(sa.select(incidents).where(incidents.c.id == incident_id))).first()
        if row is None:
            return False
        incident = IncidentRecord.from_row(row)
        deadline = incident.next_escalation_at
        if incident.status is not IncidentStatus.TRIGGERED or deadline is None or deadline > now:
            return False  # acknowledged, resolved or escalated meanwhile
        steps = incident.escalation.steps
        index = incident.escalation_step
        while deadline is not None and deadline <= now:
            index += 1
            if index >= len(steps):
                await record(
                    conn,
                    incident.id,
                    deadline,
                    TimelineKind.ESCALATION_EXHAUSTED,
                    f"Escalation policy exhausted: not acknowledged after {len(steps)} step(s)",
                )
                deadline = None
                index = len(steps) - 1
                break
            await self.run_step(conn, incident, index, now)
            deadline = deadline + steps[index].wait
        # Optimistic: only this transaction's view of the step may move it (replicas race here).
        result = await conn.execute(
            incidents.update()
            .where(
                incidents.c.id == incident.id,
                incidents.c.escalation_step == incident.escalation_step,
                incidents.c.status == IncidentStatus.TRIGGERED.value,
            )
            .values(escalation_step=index, next_escalation_at=deadline)
        )
        if result.rowcount != 1:
            raise _LostRace
        return True


class _LostRace(Exception):
    """The incident changed under us; roll the transaction back."""


class EscalationConflictError(FanzwatchError, RuntimeError):
    """The incident changed under a transaction starting its escalation; that transaction must roll back."""
