"""Reading incidents: lists, one incident with its alerts, timeline, notifications and audit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..tables import alerts, audit, incidents, outbox, timeline
from .records import IncidentStatus

ACTIVE = tuple(s.value for s in IncidentStatus if s is not IncidentStatus.RESOLVED)
SUMMARY_COLUMNS = (
    incidents.c.id,
    incidents.c.title,
    incidents.c.summary,
    incidents.c.status,
    incidents.c.priority,
    incidents.c.platform,
    incidents.c.service,
    incidents.c.opened_at,
    incidents.c.acknowledged_at,
    incidents.c.acknowledged_by,
    incidents.c.resolved_at,
    incidents.c.resolved_by,
    incidents.c.reopen_count,
    incidents.c.resolve_after,
    incidents.c.escalation_step,
    incidents.c.next_escalation_at,
    incidents.c.revenue_at_risk,
    incidents.c.impact["reporting_currency"].as_string().label("revenue_currency"),
)
ORDERS = ("money", "newest")
"""``money``: open incidents first (unpriced ones, then the most revenue at risk), then resolved ones
by revenue lost; newest first within each."""


def order_by(order: str) -> tuple[sa.ColumnElement[Any], ...]:
    if order == "newest":
        return ()
    if order != "money":
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    # Open incidents first; among them the unpriced (new, or no forecast: unknown is not zero), then the
    # most money at risk; then resolved ones by money lost, unpriced last.
    resolved = incidents.c.status == IncidentStatus.RESOLVED.value
    unpriced = incidents.c.revenue_at_risk.is_(None)
    rank = sa.case((sa.and_(sa.not_(resolved), unpriced), 0), (unpriced, 2), else_=1)
    return (sa.case((resolved, 1), else_=0).asc(), rank.asc(), incidents.c.revenue_at_risk.desc())


def _distinct(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})


class IncidentQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def page(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        platform: str | None = None,
        limit: int = 50,
        offset: int = 0,
        order: str = "money",
    ) -> tuple[list[dict[str, Any]], int]:
        """Most money at risk first (``order="newest"``: newest first); ``status="active"`` means not
        resolved (triggered, acknowledged, resolving). (page, total)."""
        filters: list[sa.ColumnElement[bool]] = []
        if status == "active":
            filters.append(incidents.c.status.in_(ACTIVE))
        elif status is not None:
            filters.append(incidents.c.status == status)
        if priority is not None:
            filters.append(incidents.c.priority == priority)
        if platform is not None:  # the incident's first platform, or any of its alerts' (correlated incidents)
            on_alert = sa.select(alerts.c.id).where(
                alerts.c.incident_id == incidents.c.id, alerts.c.labels["platform"].as_string() == platform
            )
            filters.append(sa.or_(incidents.c.platform == platform, on_alert.exists()))
        async with self._engine.connect() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(incidents).where(*filters))).scalar_one()
            rows = (
                await conn.execute(
                    sa.select(*SUMMARY_COLUMNS)
                    .where(*filters)
                    .order_by(*order_by(order), incidents.c.opened_at.desc(), incidents.c.id.desc())
                    .limit(limit)
                    .offset(offset)
                )
            ).all()
        return [dict(r._mapping) for r in rows], int(total)

    async def get(self, incident_id: int) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(incidents).where(incidents.c.id == incident_id))).first()
            if row is None:
                return None
            out = dict(row._mapping)
            out.pop("open_group_key")
            out["alerts"] = [
                dict(r._mapping)
                for r in (
                    await conn.execute(
                        sa.select(alerts).where(alerts.c.incident_id == incident_id).order_by(alerts.c.id)
                    )
                ).all()
            ]
            # Every platform and service it touches (several when alerts were correlated).
            out["platforms"] = _distinct(a["labels"].get("platform") for a in out["alerts"]) or [out["platform"]]
            out["services"] = _distinct(a["labels"].get("service") for a in out["alerts"])
            out["timeline"] = [
                dict(r._mapping)
                for r in (
                    await conn.execute(
                        sa.select(timeline.c.at, timeline.c.kind, timeline.c.actor, timeline.c.message, timeline.c.data)
                        .where(timeline.c.incident_id == incident_id)
                        .order_by(timeline.c.id)
                    )
                ).all()
            ]
            out["notifications"] = [
                dict(r._mapping)
                for r in (
                    await conn.execute(
                        sa.select(
                            outbox.c.id,
                            outbox.c.channel,
                            outbox.c.kind,
                            outbox.c.recipient,
                            outbox.c.event,
                            outbox.c.status,
                            outbox.c.attempts,
                            outbox.c.created_at,
                            outbox.c.sent_at,
                            outbox.c.last_error,
                        )
                        .where(outbox.c.incident_id == incident_id)
                        .order_by(outbox.c.id)
                    )
                ).all()
            ]
            out["remediation"] = [
                dict(r._mapping)
                for r in (
                    await conn.execute(
                        sa.select(audit.c.at, audit.c.playbook, audit.c.action, audit.c.decision, audit.c.reason)
                        .where(audit.c.incident_id == incident_id)
                        .order_by(audit.c.id)
                    )
                ).all()
            ]
        return out

    async def audit_log(self, *, playbook: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        filters: list[sa.ColumnElement[bool]] = [audit.c.playbook == playbook] if playbook else []
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(audit).where(*filters).order_by(audit.c.id.desc()).limit(limit))).all()
        return [dict(r._mapping) for r in rows]

    async def open_counts(self) -> dict[tuple[str, str], int]:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(incidents.c.platform, incidents.c.priority, sa.func.count())
                    .where(incidents.c.status.in_(ACTIVE))
                    .group_by(incidents.c.platform, incidents.c.priority)
                )
            ).all()
        return {(r[0], r[1]): int(r[2]) for r in rows}
