"""The acting half of remediation: safety rules, the action, verification, giving up.

For each due remediation, in order, and every decision written to the audit log and the
incident's timeline:

1. not needed any more (alert resolved, incident closed) → done;
2. remediation disabled, kill switch engaged, or a label value outside its allowlist → refused;
3. dry-run (global or the playbook's) → record what would have run, or which limit would
   have stopped it; nothing runs, nothing is counted for real runs, nobody is paged;
4. within the playbook's cool-down → wait for its end (then check again);
5. the playbook already ran ``max_runs_per_hour`` times in the last hour → refused for
   good and a human is paged;
6. run the action (outside any transaction, with its timeout, under a renewed lease);
   success → verify: the alert must resolve within ``verify_within``; failure, or an alert
   still firing at the deadline, is a failed try; after ``max_attempts`` failed tries it
   gives up and pages.

Limits (4, 5) are per playbook, or per playbook and platform (``limits.py``), checked under
a lock so two replicas never both pass them. A run cut short by a crash or a stop is
*resumed* (``lease.py``): run again with the same key, skipping the limits it already passed.
"""

from __future__ import annotations

import logging
import uuid
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
from .actions import ActionResult, RemediationAction
from .audit import Decision, KillSwitch, log_decision
from .labels import LabelRejectedError, LabelRules
from .lease import RemediationLease
from .limits import Limited, check, serialise

logger = logging.getLogger(__name__)


class RemediationEngine:
    """Runs due remediations; safe to run on every replica at once (claims are leases).

    >>> engine = RemediationEngine(db, settings.remediation, actions, escalator, kill, clock, metrics)
    >>> await engine.recover()  # at start: resume what a crashed replica left running
    >>> await engine.run_due()  # each round
    """

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
        owner: str | None = None,
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
        self._lease = RemediationLease(engine, owner or uuid.uuid4().hex[:16], settings.lease, clock)

    async def recover(self) -> int:
        """Resume remediations whose holder's lease expired (it crashed); how many.

        A remediation another replica is running now (its lease renewed) is left alone."""
        return await self._lease.recover()

    async def run_due(self) -> int:
        """Resume expired claims, check verification deadlines, then attempt every due remediation."""
        resumed = await self.recover()
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
            await self._verification_deadline(int(rid))
        for rid in due:
            try:
                await self._attempt(int(rid))
            except Exception:  # one broken remediation must not stop the others
                logger.exception("remediation %d failed unexpectedly", rid)
        if overdue or due or resumed:
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
        """Change a row this transaction holds (claimed, or won by a guarded update)."""
        await conn.execute(remediations.update().where(remediations.c.id == rid).values(updated_at=now, **values))

    async def _end(self, conn: AsyncConnection, row: Any, **values: Any) -> None:
        """Leave ``running``: the claim this transaction took is given up with the new state."""
        await self._lease.release(conn, row.id, interrupted=False, **values)

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
        await self._end(conn, row, status="refused", next_try_at=None)

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
        """The safety rules before the limits; the checked label values when the action may run."""
        incident = await load_incident(conn, row.incident_id)
        if (
            incident is None
            or incident.status is IncidentStatus.RESOLVED
            or not await self._alert_firing(conn, row.incident_id, row.fingerprint)
        ):
            await self._log(conn, row, now, Decision.NOT_NEEDED, "the alert is no longer firing")
            await self._end(conn, row, status="done", next_try_at=None)
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
            return self._rules[playbook.name].check(row.labels)
        except LabelRejectedError as exc:
            await self._refuse(conn, row, now, "label_rejected", str(exc))
            return None

    async def _dry_run(self, conn: AsyncConnection, row: Any, description: str, limited: Limited | None) -> None:
        """Audit what would have happened; never counted for real runs, never a page."""
        now = self._clock.now()
        if limited is None:
            self._metrics.remediations_run.labels(row.platform, row.playbook, "dry_run").inc()
            await self._log(conn, row, now, Decision.DRY_RUN, f"would have run: {description}")
            await self._end(conn, row, status="done", next_try_at=None)
        elif limited.rule == "cooldown":  # like a real run: look again when the cool-down ends
            await self._log(conn, row, now, Decision.DRY_RUN_LIMITED, f"would have been limited: {limited.reason}")
            await self._end(conn, row, status="waiting", next_try_at=limited.retry_at)
        else:
            await self._log(
                conn,
                row,
                now,
                Decision.DRY_RUN_LIMITED,
                f"would have been limited: {limited.reason}; a human would have been paged",
            )
            await self._end(conn, row, status="refused", next_try_at=None)  # like a real run: for good

    async def _limited(self, conn: AsyncConnection, row: Any, limited: Limited) -> None:
        now = self._clock.now()
        self._metrics.remediations_refused.labels(row.platform, row.playbook, limited.rule).inc()
        await self._log(conn, row, now, Decision.REFUSED, limited.reason, rule=limited.rule)
        if limited.rule == "cooldown":
            await self._end(conn, row, status="waiting", next_try_at=limited.retry_at)
            return
        await self._end(conn, row, status="refused", next_try_at=None)
        why = f"{limited.runs} runs in the last hour reached the limit"
        await self._give_up(conn, row, now, why, key="rate_limited")

    async def _attempt(self, rid: int) -> None:
        async with self._engine.begin() as conn:
            if not await self._lease.claim(conn, rid):
                return  # another replica claimed it, or its state changed
            now = self._clock.now()
            row = await self._load(conn, rid)
            playbook = self._playbooks.get(row.playbook)
            values = await self._gate(conn, row, playbook, now)
            if values is None or playbook is None:
                return
            action = self._actions[playbook.name]
            description = action.describe(values)
            dry = self._settings.dry_run or playbook.dry_run
            run = int(row.runs)
            if row.interrupted and not dry:
                await self._log(
                    conn,
                    row,
                    now,
                    Decision.RESUMED,
                    f"{description}: again, the replica running it stopped before recording its outcome",
                    attempt=row.failed_tries + 1,
                )
            else:
                await serialise(conn, playbook, row.platform)
                limited = await check(conn, playbook, row.platform, now, simulated=dry)
                if dry:
                    await self._dry_run(conn, row, description, limited)
                    return
                if limited is not None:
                    await self._limited(conn, row, limited)
                    return
                run += 1
                await self._set(conn, rid, now, runs=run)
                await self._log(conn, row, now, Decision.EXECUTED, description, attempt=row.failed_tries + 1)
        async with self._lease.held(rid):  # outside the transaction: it may take its whole timeout
            try:
                result = await action.run(values, key=f"fanzwatch-remediation-{rid}-{run}")
            except Exception as exc:  # an action must not raise; if one does, it is a failed try
                logger.exception("remediation %d: the %s action raised", rid, playbook.action.kind)
                result = ActionResult(False, f"{description}: {type(exc).__name__}")
        await self._outcome(rid, playbook, result)

    async def _outcome(self, rid: int, playbook: PlaybookConfig, result: ActionResult) -> None:
        now = self._clock.now()
        outcome = Decision.SUCCEEDED if result.ok else Decision.FAILED
        async with self._engine.begin() as conn:
            mine = await self._lease.release(conn, rid, interrupted=False)
            row = await self._load(conn, rid)
            if row is None:  # its incident was deleted meanwhile
                return
            self._metrics.remediations_run.labels(row.platform, row.playbook, outcome.value).inc()
            if not mine:  # our lease expired and another replica took the remediation over
                await self._log(conn, row, now, outcome, f"{result.detail} (recorded only: the claim had expired)")
                return
            incident = await load_incident(conn, row.incident_id)
            firing = await self._alert_firing(conn, row.incident_id, row.fingerprint)
            if incident is None or incident.status is IncidentStatus.RESOLVED:
                await self._log(conn, row, now, outcome, result.detail)
                await self._log(conn, row, now, Decision.NOT_NEEDED, "the incident was resolved while it ran")
                await self._set(conn, rid, now, status="done", next_try_at=None)
            elif result.ok and not firing:
                self._metrics.verifications.labels(row.platform, row.playbook, "verified").inc()
                await self._log(conn, row, now, outcome, result.detail)
                await self._log(conn, row, now, Decision.VERIFIED, "the alert resolved while the action ran")
                await self._set(conn, rid, now, status="done", next_try_at=None)
            elif result.ok:
                verify_by = now + playbook.verify_within
                text = f"{result.detail}; verifying the alert resolves by {verify_by.isoformat()}"
                await self._log(conn, row, now, outcome, text)
                await self._set(conn, rid, now, status="verifying", verify_by=verify_by, next_try_at=None)
            else:
                await self._log(conn, row, now, outcome, result.detail)
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

    async def _verification_deadline(self, rid: int) -> None:
        now = self._clock.now()
        async with self._engine.begin() as conn:
            won = await conn.execute(  # two replicas at the deadline: exactly one judges it
                remediations.update()
                .where(remediations.c.id == rid, remediations.c.status == "verifying", remediations.c.verify_by <= now)
                .values(verify_by=None, updated_at=now)
            )
            if won.rowcount != 1:
                return
            row = await self._load(conn, rid)
            playbook = self._playbooks.get(row.playbook)
            if not await self._alert_firing(conn, row.incident_id, row.fingerprint) or playbook is None:
                await self._set(conn, rid, now, status="done")
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
