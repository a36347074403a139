"""The transactional half of remediation: which playbooks an alert asks for, and closing them.

Called inside the transaction that applies an alert, so a remediation request exists if
and only if the alert event was recorded. The engine acts on requests after commit.

States of a remediation: ``pending`` (to try now) → ``running`` → ``verifying`` (acted,
waiting for the alert to resolve) → ``done``; or ``waiting`` (cool-down or a retry),
``gave_up`` (failed its tries: a human was paged), ``refused`` (a safety rule stopped it
for good). A remediation that finished ``done`` starts over when its alert fires again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...settings.alerting import PlaybookConfig, RemediationSettings
from .._sql import insert_ignore
from ..matchers import LabelMatcher, compile_matchers, match_all
from ..metrics import AlertingMetrics
from ..tables import remediations
from .audit import Decision, log_decision

ACTIVE = ("pending", "running", "waiting", "verifying")


class RemediationPlanner:
    def __init__(self, settings: RemediationSettings, metrics: AlertingMetrics) -> None:
        self._metrics = metrics
        self._playbooks: tuple[tuple[PlaybookConfig, tuple[LabelMatcher, ...]], ...] = tuple(
            (p, compile_matchers(p.matchers)) for p in settings.playbooks
        )

    def matching(self, labels: Mapping[str, str]) -> list[PlaybookConfig]:
        return [p for p, matchers in self._playbooks if match_all(matchers, labels)]

    async def request(
        self,
        conn: AsyncConnection,
        *,
        incident_id: int,
        fingerprint: str,
        platform: str,
        labels: Mapping[str, str],
        now: datetime,
    ) -> int:
        """Ask for every matching playbook (idempotent); how many became pending."""
        started = 0
        for playbook in self.matching(labels):
            new_id = await insert_ignore(
                conn,
                remediations,
                {
                    "incident_id": incident_id,
                    "playbook": playbook.name,
                    "fingerprint": fingerprint,
                    "platform": platform,
                    "labels": dict(labels),
                    "status": "pending",
                    "failed_tries": 0,
                    "next_try_at": now,
                    "created_at": now,
                    "updated_at": now,
                },
                ("incident_id", "playbook", "fingerprint"),
            )
            if new_id is not None:
                started += 1
                continue
            # Fired again after an earlier cycle finished: start a new cycle.
            result = await conn.execute(
                remediations.update()
                .where(
                    remediations.c.incident_id == incident_id,
                    remediations.c.playbook == playbook.name,
                    remediations.c.fingerprint == fingerprint,
                    remediations.c.status == "done",
                )
                .values(
                    status="pending",
                    failed_tries=0,
                    next_try_at=now,
                    verify_by=None,
                    labels=dict(labels),
                    updated_at=now,
                )
            )
            started += result.rowcount
        return started

    async def alert_resolved(self, conn: AsyncConnection, *, incident_id: int, fingerprint: str, now: datetime) -> None:
        """The alert resolved: an action waiting for that is verified; one not yet run is not needed."""
        rows = (
            await conn.execute(
                sa.select(remediations).where(
                    remediations.c.incident_id == incident_id,
                    remediations.c.fingerprint == fingerprint,
                    remediations.c.status.in_(["pending", "waiting", "verifying"]),
                )
            )
        ).all()
        for row in rows:
            verified = row.status == "verifying"
            if verified:
                self._metrics.verifications.labels(row.platform, row.playbook, "verified").inc()
            await conn.execute(
                remediations.update()
                .where(remediations.c.id == row.id, remediations.c.status == row.status)
                .values(status="done", next_try_at=None, verify_by=None, updated_at=now)
            )
            await log_decision(
                conn,
                now,
                incident_id=incident_id,
                remediation_id=row.id,
                playbook=row.playbook,
                action="-",
                decision=Decision.VERIFIED if verified else Decision.NOT_NEEDED,
                reason="the alert resolved after the action" if verified else "the alert resolved before it ran",
            )

    async def incident_closed(self, conn: AsyncConnection, *, incident_id: int, by: str, now: datetime) -> None:
        """A human resolved the incident: nothing more is attempted for it."""
        rows = (
            await conn.execute(
                sa.select(remediations).where(
                    remediations.c.incident_id == incident_id, remediations.c.status.in_(ACTIVE)
                )
            )
        ).all()
        for row in rows:
            await conn.execute(
                remediations.update().where(remediations.c.id == row.id).values(status="done", updated_at=now)
            )
            await log_decision(
                conn,
                now,
                incident_id=incident_id,
                remediation_id=row.id,
                playbook=row.playbook,
                action="-",
                decision=Decision.NOT_NEEDED,
                reason=f"the incident was resolved by {by}",
            )
