"""Finding incidents by status, priority, platform and when they opened (FanzDash's list).

A read-only query beside ``IncidentQueries.page``, which has no time filter; kept in its
own module so the list pages can filter by time without changing the API's query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..tables import alerts, incidents
from .queries import SUMMARY_COLUMNS, order_by


async def search_incidents(
    engine: AsyncEngine,
    *,
    statuses: Sequence[str] = (),
    priority: str | None = None,
    platform: str | None = None,
    opened_after: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """(page, total), most money at risk (or lost) first, then newest. Empty ``statuses`` means any status.

    ``platform`` matches the incident's platform or any of its alerts' (an incident
    grouped over platforms affects each); each row carries ``alert_count``.
    """
    filters: list[sa.ColumnElement[bool]] = []
    if statuses:
        filters.append(incidents.c.status.in_(list(statuses)))
    if priority is not None:
        filters.append(incidents.c.priority == priority)
    if platform is not None:
        on_alert = sa.select(alerts.c.id).where(
            alerts.c.incident_id == incidents.c.id, alerts.c.labels["platform"].as_string() == platform
        )
        filters.append(sa.or_(incidents.c.platform == platform, on_alert.exists()))
    if opened_after is not None:
        filters.append(incidents.c.opened_at >= opened_after)
    count = sa.select(sa.func.count()).select_from(alerts).where(alerts.c.incident_id == incidents.c.id)
    async with engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(incidents).where(*filters))).scalar_one()
        rows = (
            await conn.execute(
                sa.select(*SUMMARY_COLUMNS, count.scalar_subquery().label("alert_count"))
                .where(*filters)
                .order_by(*order_by("money"), incidents.c.opened_at.desc(), incidents.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return [dict(r._mapping) for r in rows], int(total)
