"""The incident store as ``fanzwatch.impact`` sees it (``core.impact.IncidentLedger``).

- ``to_price``: open incidents, and resolved ones whose impact is not final yet (their
  loss keeps settling for ``settle_seconds`` after resolution), most urgent first;
- ``save_impact``: a guarded update (``impact_final`` false and nothing newer stored), so
  replicas pricing the same incident never move its figures backwards nor touch a final one;
- ``raise_to_p0``: money-driven priority, a compare-and-set on the priority seen (like an
  alert raising it, ``firing.py``) that takes P0's escalation policy and puts the reason on
  the timeline; never lowers, never touches a resolved incident.

>>> ledger = IncidentImpactLedger(engine, settings)
>>> await ledger.raise_to_p0(7, reason="revenue on fanz-1 below its band", data={}, now=now)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.impact import IncidentWindow
from ...core.models import HOLD_ANNOTATION, Priority, parse_hold
from ...core.platforms import PLATFORM_SLUG
from ...settings.alerting import AlertingSettings
from ..tables import alerts, incidents, timeline
from ..timeline import TimelineKind, record
from .records import IncidentStatus, load_incident
from .transitions import raise_priority

MONEY_ACTOR = "fanzwatch-impact"
SETTLE_GRACE = timedelta(days=1)
_QUIET = (IncidentStatus.RESOLVING.value, IncidentStatus.RESOLVED.value)


class IncidentImpactLedger:
    def __init__(self, engine: AsyncEngine, settings: AlertingSettings) -> None:
        self._engine = engine
        self._settings = settings

    async def to_price(self, *, now: datetime, settle_seconds: float, limit: int) -> list[IncidentWindow]:
        # Resolved incidents settle for settle_seconds; one missed by a server that was down then
        # is still finalised within a day. Older ones (resolved before impact existed) are left alone.
        oldest = now - timedelta(seconds=settle_seconds) - SETTLE_GRACE
        settling = sa.and_(incidents.c.impact_final.is_(sa.false()), incidents.c.resolved_at >= oldest)
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(incidents)
                    .where(sa.or_(incidents.c.status != IncidentStatus.RESOLVED.value, settling))
                    # settling ones first: their final round must not be crowded out by many open ones
                    .order_by(
                        sa.case((incidents.c.status == IncidentStatus.RESOLVED.value, 0), else_=1),
                        incidents.c.priority,
                        incidents.c.opened_at.desc(),
                    )
                    .limit(limit)
                )
            ).all()
            return [await self._window(conn, row._mapping) for row in rows]

    async def _window(self, conn: AsyncConnection, m: Any) -> IncidentWindow:
        rows = (
            await conn.execute(
                sa.select(alerts.c.labels, alerts.c.annotations, alerts.c.starts_at).where(
                    alerts.c.incident_id == m["id"]
                )
            )
        ).all()
        began = m["opened_at"]
        platforms = {m["platform"]} if PLATFORM_SLUG.match(str(m["platform"])) else set()
        for labels, notes, starts_at in rows:
            hold = notes.get(HOLD_ANNOTATION) if isinstance(notes, Mapping) else None
            began = min(began, starts_at - parse_hold(hold if isinstance(hold, str) else None))
            platform = labels.get("platform") if isinstance(labels, Mapping) else None
            if isinstance(platform, str) and PLATFORM_SLUG.match(platform):  # label values go into PromQL
                platforms.add(platform)
        mitigated = (
            await conn.execute(
                # the last time every alert had resolved (after a flap, not its first pause)
                sa.select(sa.func.max(timeline.c.at)).where(
                    timeline.c.incident_id == m["id"], timeline.c.kind == TimelineKind.RESOLVING.value
                )
            )
        ).scalar_one_or_none()
        return IncidentWindow(
            id=int(m["id"]),
            title=m["title"],
            priority=Priority(m["priority"]),
            status=m["status"],
            platforms=tuple(sorted(platforms)),
            began_at=began,
            opened_at=m["opened_at"],
            acknowledged_at=m["acknowledged_at"],
            # only while its symptoms are still gone: an incident firing again is not mitigated
            mitigated_at=_aware(mitigated) if m["status"] in _QUIET else None,
            resolved_at=m["resolved_at"],
            impact=m["impact"],
        )

    async def save_impact(
        self, incident_id: int, impact: Mapping[str, Any], *, at_risk: float | None, computed_at: datetime, final: bool
    ) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                incidents.update()
                .where(
                    incidents.c.id == incident_id,
                    # final figures stay, unless the incident reopened (it is not resolved any more)
                    sa.or_(incidents.c.impact_final.is_(sa.false()), incidents.c.resolved_at.is_(None)),
                    sa.or_(incidents.c.impact_computed_at.is_(None), incidents.c.impact_computed_at <= computed_at),
                )
                .values(
                    impact=dict(impact), revenue_at_risk=at_risk, impact_computed_at=computed_at, impact_final=final
                )
            )
            return int(result.rowcount or 0) == 1

    async def raise_to_p0(self, incident_id: int, *, reason: str, data: Mapping[str, Any], now: datetime) -> bool:
        async with self._engine.begin() as conn:
            for _ in range(3):  # lost a race: judge again from the row as it is now
                incident = await load_incident(conn, incident_id)
                if incident is None or incident.status is IncidentStatus.RESOLVED or incident.priority is Priority.P0:
                    return False
                if await raise_priority(conn, self._settings, incident, Priority.P0, now):
                    await record(
                        conn,
                        incident_id,
                        now,
                        TimelineKind.PRIORITY,
                        f"Priority raised {incident.priority.value} → P0 by money: {reason}",
                        actor=MONEY_ACTOR,
                        data={"from": incident.priority.value, "to": "P0", "cause": "money", **data},
                    )
                    return True
        return False


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's aggregate loses the column type
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
