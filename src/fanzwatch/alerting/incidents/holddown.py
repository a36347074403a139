"""Flap damping: an incident whose alerts all resolved waits ``hold_down`` before it resolves.

Alertmanager reports an alert flapping around its threshold as resolved, firing,
resolved... Resolving and reopening the incident each time told everyone twice per flap
(issue 13: 100 flaps, 201 Slack messages). Instead, like Prometheus' ``keep_firing_for``
one level up:

- the last alert resolving moves the incident to ``resolving`` with
  ``resolve_after = now + hold_down`` (escalation pauses: the escalator only acts on
  ``triggered``); nobody is notified yet;
- an alert of the incident (or of its group) firing before ``resolve_after`` returns it
  to ``triggered`` or ``acknowledged`` silently — same incident, same escalation deadline,
  no reopen message, no new trigger;
- at ``resolve_after`` it becomes ``resolved`` (at that instant, by ``alertmanager``) and
  only then is the resolve sent, once per channel.

So a flapping alert costs at most one trigger and one resolve per channel per hold-down,
and a critical alert handing over to its inhibited warning twin (which Alertmanager
delivers one ``group_interval`` later) is no resolve at all. Every step is a
compare-and-set on ``status = 'resolving'``: the settling job may run on every replica
and a firing alert may race it; exactly one wins.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection, Iterable
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..tables import incidents
from ..timeline import ALERTMANAGER, TimelineKind, human, record
from .records import IncidentRecord, IncidentStatus, load_incident
from .transitions import compare_and_set


class _Close(Protocol):
    def __call__(
        self,
        conn: AsyncConnection,
        incident: IncidentRecord,
        now: datetime,
        *,
        by: str,
        message: str,
        expected: Collection[IncidentStatus] = ...,
        where: Iterable[sa.ColumnElement[bool]] = ...,
    ) -> Awaitable[IncidentRecord | None]: ...


class HoldDown:
    """The ``resolving`` state: entering it, leaving it by firing again, and settling it."""

    def __init__(self, period: timedelta, close: _Close) -> None:
        self.period = period
        self._close = close

    @property
    def enabled(self) -> bool:
        return self.period > timedelta(0)

    async def begin(self, conn: AsyncConnection, incident: IncidentRecord, now: datetime) -> bool:
        """Every alert of ``incident`` resolved: start the hold-down. False if it changed meanwhile."""
        until = now + self.period
        won = await compare_and_set(
            conn,
            incident.id,
            {IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED},
            status=IncidentStatus.RESOLVING.value,
            resolve_after=until,
        )
        if won:
            await record(
                conn,
                incident.id,
                now,
                TimelineKind.RESOLVING,
                f"All alerts resolved: the incident resolves at {until:%H:%M:%S} UTC "
                f"unless one fires again within {human(self.period)} (hold-down)",
                actor=ALERTMANAGER,
                data={"resolve_after": until.isoformat()},
            )
        return won

    async def resume(self, conn: AsyncConnection, incident: IncidentRecord, alertname: str, now: datetime) -> bool:
        """An alert fired while ``incident`` was resolving: keep it open, silently.

        False when the hold-down had already ended (the incident is resolved now, and the
        firing is a reopen) or another transaction settled it first.
        """
        assert incident.resolve_after is not None
        if incident.resolve_after <= now:
            await self.settle(conn, incident, now)
            return False
        # Back to acknowledged or triggered as the row says when the update runs, not as it was
        # read: an acknowledgement committed in between keeps the incident ``resolving`` and sets
        # ``acknowledged_at`` (``operations.acknowledge``), so a status chosen from the earlier read
        # would leave it ``triggered`` yet acknowledged — never escalated, never acknowledgeable.
        won = await compare_and_set(
            conn,
            incident.id,
            {IncidentStatus.RESOLVING},
            where=(incidents.c.resolve_after > now,),
            status=sa.case(
                (incidents.c.acknowledged_at.is_(None), IncidentStatus.TRIGGERED.value),
                else_=IncidentStatus.ACKNOWLEDGED.value,
            ),
            resolve_after=None,
        )
        if won:
            now_open = await load_incident(conn, incident.id)
            assert now_open is not None
            back = now_open.status
            quiet = now - (incident.resolve_after - self.period)
            await record(
                conn,
                incident.id,
                now,
                TimelineKind.STILL_OPEN,
                f"{alertname} fired again {human(quiet)} after the alerts resolved: still this incident, "
                f"{back.value}, nobody notified again (hold-down {human(self.period)})",
                actor=ALERTMANAGER,
            )
        return won

    async def settle(self, conn: AsyncConnection, incident: IncidentRecord, now: datetime) -> IncidentRecord | None:
        """Resolve ``incident`` if its hold-down has ended; None if not due or someone else did."""
        if incident.status is not IncidentStatus.RESOLVING or incident.resolve_after is None:
            return None
        if incident.resolve_after > now:
            return None
        return await self._close(
            conn,
            incident,
            incident.resolve_after,  # when it became final, whenever this job happened to run
            by=ALERTMANAGER,
            message=f"Resolved: all of its alerts resolved and stayed resolved for {human(self.period)}",
            expected={IncidentStatus.RESOLVING},
            where=(incidents.c.resolve_after == incident.resolve_after,),
        )

    async def settle_due(self, engine: AsyncEngine, now: datetime) -> list[int]:
        """Resolve every incident whose hold-down ended; the ids resolved by this call.

        Safe on every replica at once: each settle is a compare-and-set in its own transaction.
        """
        async with engine.connect() as conn:
            ids = (
                await conn.scalars(
                    sa.select(incidents.c.id)
                    .where(incidents.c.status == IncidentStatus.RESOLVING.value, incidents.c.resolve_after <= now)
                    .order_by(incidents.c.resolve_after)
                )
            ).all()
        done = []
        for incident_id in ids:
            async with engine.begin() as conn:
                incident = await load_incident(conn, int(incident_id))
                if incident is not None and await self.settle(conn, incident, now) is not None:
                    done.append(int(incident_id))
        return done
