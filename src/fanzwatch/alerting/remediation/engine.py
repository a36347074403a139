"""The acting half of remediation: safety rules, the action, verification, giving up.

For each due remediation, in order, and every decision written to the audit log and the
incident's timeline:

1. not needed any more (alert resolved, incident closed) → done;
2. remediation disabled, kill switch engaged, or a label value outside its allowlist → refused;
3. within the playbook's cool-down → wait for its end (then check again);
4. the playbook already ran ``max_runs_per_hour`` times in the last hour → refused for
   good and a human is paged;
5. dry-run (global or the playbook's) → record what would run, do nothing;
6. run the action (outside any transaction, with its timeout); success → verify: the
   alert must resolve within ``verify_within``; failure, or an alert still firing at the
   deadline, is a failed try; after ``max_attempts`` failed tries it gives up and pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.clock import Clock
from ...settings.alerting import PlaybookConfig, RemediationSettings
from ..escalation.escalator import Escalator
from ..incidents.records import IncidentStatus, load_incident
from ..metrics import AlertingMetrics
from ..tables import alerts, remediations
from ..timeline import human
from .actions import RemediationAction
from .audit import HOUR, Decision, KillSwitch, last_run, log_decision, runs_since
from .labels import LabelRejectedError, LabelRules

logger = logging.getLogger(__name__)


class RemediationEngine:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: RemediationSettings,
        actions: Mapping[str, RemediationAction],
        escalator: Escalator,
        kill_switch: KillSwitch,
        clock: Clock,
        metrics: AlertingMetrics,
        *,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._playbooks = {p.name: p for p in settings.playbooks}
        self._rules = {p.name: LabelRules(p.label_rules) for p in settings.playbooks}
        self._actions = dict(actions)
        self._escalator = escalator
        self._kill = kill_switch
        self._clock = clock
        self._metrics = metrics
        self._on_change = on_change

    async def recover(self) -> None:
        """After a crash, a remediation left ``running`` is retried (its run was already counted)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                remediations.update()
                .where(remediations.c.status == "running")
                .values(status="waiting", next_try_at=self._clock.now())
            )

    async def run_due(self) -> int:
        """Check verification deadlines, then attempt every due remediation; how many were handled."""
        now = self._clock.now()
        async with self._engine.connect() as conn:
            overdue = (
                (
                    await conn.execute(
                        sa.select(remediations.c.id)
                        .where(remediations.c.status == "verifying", remediations.c.verify_by <= now)
                        .order_by(remediations.c.id)
                    )
                )
                .scalars()
                .all()
            )
            due = (
                (
                    await conn.execute(
                        sa.select(remediations.c.id)
                        .where(remediations.c.status.in_(["pending", "waiting"]), remediations.c.next_try_at <= now)
                        .order_by(remediations.c.next_try_at, remediations.c.id)
                    )
                )
                .scalars()
                .all()
            )
        for rid in overdue:
            async with self._engine.begin() as conn:
                await self._verification_deadline(conn, int(rid), now)
        for rid in due:
            try:
                await self._attempt(int(rid))
            except Exception:  # one broken remediation must not stop the others
                logger.exception("remediation %d failed unexpectedly", rid)
        if overdue or due:
            self._on_change()
        return len(overdue) + len(due)

    async def _load(self, conn: AsyncConnection, rid: int) -> Any:
        return (await conn.execute(sa.select(remediations).where(remediations.c.id == rid))).first()

    async def _alert_firing(self, conn: AsyncConnection, incident_id: int, fingerprint: str) -> bool:
        status = (
            await conn.execute(
                sa.select(alerts.c.status).where(
                    alerts.c.incident_id == incident_id, alerts.c.fingerprint == fingerprint
                )
            )
        ).scalar_one_or_none()
        return status == "firing"

    async def _set(self, conn: AsyncConnection, rid: int, now: datetime, **values: Any) -> None:
        await conn.execute(remediations.update().where(remediations.c.id == rid).values(updated_at=now, **values))

    async def _log(
        self, conn: AsyncConnection, row: Any, now: datetime, decision: Decision, reason: str, **detail: Any
    ) -> None:
        playbook = self._playbooks.get(row.playbook)
        await log_decision(
            conn,
            now,
            incident_id=row.incident_id,
            remediation_id=row.id,
            playbook=row.playbook,
            action=playbook.action.kind if playbook else "-",
            decision=decision,
            reason=reason,
            detail=detail or None,
        )

    async def _refuse(self, conn: AsyncConnection, row: Any, now: datetime, reason: str, text: str) -> None:
        self._metrics.remediations_refused.labels(row.platform, row.playbook, reason).inc()
        await self._log(conn, row, now, Decision.REFUSED, f"{reason}: {text}", rule=reason)
        await self._set(conn, row.id, now, status="refused", next_try_at=None)

    async def _give_up(self, conn: AsyncConnection, row: Any, now: datetime, why: str, *, key: str) -> None:
        self._metrics.gave_up.labels(row.platform, row.playbook).inc()
        await self._log(conn, row, now, Decision.GAVE_UP, f"{why}; paging a human")
        incident = await load_incident(conn, row.incident_id)
        if incident is not None:
            await self._escalator.page(
                conn,
                incident,
                now,
                key=f"remediation:{row.playbook}:{key}",
                reason=f"auto-remediation {row.playbook} stopped: {why}",
            )

    async def _gate(
        self, conn: AsyncConnection, row: Any, playbook: PlaybookConfig | None, now: datetime
    ) -> dict[str, str] | None:
        """The safety rules in order; the checked label values when the action may run."""
        incident = await load_incident(conn, row.incident_id)
        if (
            incident is None
            or incident.status is IncidentStatus.RESOLVED
            or not await self._alert_firing(conn, row.incident_id, row.fingerprint)
        ):
            await self._log(conn, row, now, Decision.NOT_NEEDED, "the alert is no longer firing")
            await self._set(conn, row.id, now, status="done", next_try_at=None)
            return None
        if playbook is None:
            await self._refuse(conn, row, now, "unknown_playbook", "the playbook is no longer configured")
            return None
        if not self._settings.enabled:
            await self._refuse(conn, row, now, "disabled", "remediation is disabled in the configuration")
            return None
        if await self._kill.engaged(conn):
            await self._refuse(conn, row, now, "kill_switch", "the remediation kill switch is engaged")
            return None
        try:
            values = self._rules[playbook.name].check(row.labels)
        except LabelRejectedError as exc:
            await self._refuse(conn, row, now, "label_rejected", str(exc))
            return None
        last = await last_run(conn, playbook.name)
        if last is not None and now < last + playbook.cooldown:
            until = last + playbook.cooldown
            self._metrics.remediations_refused.labels(row.platform, row.playbook, "cooldown").inc()
            await self._log(
                conn,
                row,
                now,
                Decision.REFUSED,
                f"cooldown: last run {last.isoformat()}, cool-down {human(playbook.cooldown)}; "
                f"next try at {until.isoformat()}",
                rule="cooldown",
            )
            await self._set(conn, row.id, now, status="waiting", next_try_at=until)
            return None
        runs = await runs_since(conn, playbook.name, now - HOUR)
        if runs >= playbook.max_runs_per_hour:
            self._metrics.remediations_refused.labels(row.platform, row.playbook, "rate_limited").inc()
            await self._log(
                conn,
                row,
                now,
                Decision.REFUSED,
                f"rate_limited: {runs} runs in the last hour (max {playbook.max_runs_per_hour})",
                rule="rate_limited",
            )
            await self._set(conn, row.id, now, status="refused", next_try_at=None)
            await self._give_up(conn, row, now, f"{runs} runs in the last hour reached the limit", key="rate_limited")
            return None
        return values

    async def _attempt(self, rid: int) -> None:
        now = self._clock.now()
        async with self._engine.begin() as conn:
            claimed = await conn.execute(
                remediations.update()
                .where(remediations.c.id == rid, remediations.c.status.in_(["pending", "waiting"]))
                .values(status="running", updated_at=now)
            )
            if claimed.rowcount != 1:
                return
            row = await self._load(conn, rid)
            playbook = self._playbooks.get(row.playbook)
            values = await self._gate(conn, row, playbook, now)
            if values is None or playbook is None:
                return
            action = self._actions[playbook.name]
            description = action.describe(values)
            if self._settings.dry_run or playbook.dry_run:
                self._metrics.remediations_run.labels(row.platform, row.playbook, "dry_run").inc()
                await self._log(conn, row, now, Decision.DRY_RUN, f"would {description}")
                await self._set(conn, rid, now, status="done", next_try_at=None)
                return
            await self._log(conn, row, now, Decision.EXECUTED, description, attempt=row.failed_tries + 1)
        result = await action.run(values)  # outside the transaction: it may take its whole timeout
        now = self._clock.now()
        async with self._engine.begin() as conn:
            row = await self._load(conn, rid)
            if result.ok and not await self._alert_firing(conn, row.incident_id, row.fingerprint):
                # The alert resolved while the action ran.
                self._metrics.remediations_run.labels(row.platform, row.playbook, "succeeded").inc()
                self._metrics.verifications.labels(row.platform, row.playbook, "verified").inc()
                await self._log(conn, row, now, Decision.SUCCEEDED, result.detail)
                await self._log(conn, row, now, Decision.VERIFIED, "the alert resolved while the action ran")
                await self._set(conn, rid, now, status="done", next_try_at=None)
            elif result.ok:
                self._metrics.remediations_run.labels(row.platform, row.playbook, "succeeded").inc()
                verify_by = now + playbook.verify_within
                await self._log(
                    conn,
                    row,
                    now,
                    Decision.SUCCEEDED,
                    f"{result.detail}; verifying the alert resolves by {verify_by.isoformat()}",
                )
                await self._set(conn, rid, now, status="verifying", verify_by=verify_by, next_try_at=None)
            else:
                self._metrics.remediations_run.labels(row.platform, row.playbook, "failed").inc()
                await self._log(conn, row, now, Decision.FAILED, result.detail)
                await self._failed_try(conn, row, playbook, now, f"the action failed: {result.detail}")

    async def _failed_try(
        self, conn: AsyncConnection, row: Any, playbook: PlaybookConfig, now: datetime, why: str
    ) -> None:
        tries = int(row.failed_tries) + 1
        if tries >= playbook.max_attempts:
            await self._set(conn, row.id, now, status="gave_up", failed_tries=tries, next_try_at=None, verify_by=None)
            await self._give_up(
                conn,
                row,
                now,
                f"{tries} failed tries (max {playbook.max_attempts}), last: {why}",
                key=f"gave_up:{row.id}",
            )
        else:
            await self._set(conn, row.id, now, status="waiting", failed_tries=tries, next_try_at=now, verify_by=None)

    async def _verification_deadline(self, conn: AsyncConnection, rid: int, now: datetime) -> None:
        row = await self._load(conn, rid)
        if row is None or row.status != "verifying":
            return
        playbook = self._playbooks.get(row.playbook)
        if not await self._alert_firing(conn, row.incident_id, row.fingerprint) or playbook is None:
            await self._set(conn, rid, now, status="done", verify_by=None)
            return
        self._metrics.verifications.labels(row.platform, row.playbook, "failed").inc()
        await self._log(
            conn,
            row,
            now,
            Decision.VERIFICATION_FAILED,
            f"the alert is still firing {human(playbook.verify_within)} after the action",
        )
        await self._failed_try(conn, row, playbook, now, "the alert kept firing after the action")
