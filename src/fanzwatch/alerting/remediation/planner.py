"""The transactional half of remediation: which playbooks an alert asks for, and closing them.

Called inside the transaction that applies an alert, so a remediation request exists if
and only if the alert event was recorded. The engine acts on requests after commit.

States of a remediation: ``pending`` (to try now) → ``running`` (claimed by one replica,
under a lease) → ``verifying`` (acted, waiting for the alert to resolve) → ``done``; or
``waiting`` (cool-down, a retry, or resuming an interrupted run), ``gave_up`` (failed its
tries: a human was paged), ``refused`` (a safety rule stopped it for good). Every change
is a guarded update (``WHERE status = :expected``). A remediation that finished ``done``
starts over when its alert fires again.
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

WAITING = ("pending", "waiting", "verifying")  # active, and not being run by a replica now


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
                    interrupted=False,
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
            won = await conn.execute(
                remediations.update()
                .where(remediations.c.id == row.id, remediations.c.status == row.status)
                .values(status="done", next_try_at=None, verify_by=None, interrupted=False, updated_at=now)
            )
            if won.rowcount != 1:  # changed meanwhile (claimed by a replica, judged at its deadline)
                continue
            if verified:
                self._metrics.verifications.labels(row.platform, row.playbook, "verified").inc()
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
        """A human resolved the incident: nothing more is attempted for it.

        An action running now is left to its holder, which records its outcome and then
        sees the incident resolved."""
        rows = (
            await conn.execute(
                sa.select(remediations).where(
                    remediations.c.incident_id == incident_id, remediations.c.status.in_(WAITING)
                )
            )
        ).all()
        for row in rows:
            won = await conn.execute(
                remediations.update()
                .where(remediations.c.id == row.id, remediations.c.status == row.status)
                .values(status="done", next_try_at=None, verify_by=None, interrupted=False, updated_at=now)
            )
            if won.rowcount != 1:
                continue
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
