"""The remediation audit log: every decision, taken or refused, with why.

Each entry also goes on the incident's timeline, so the people handling an incident see
what automation did (or declined to do) without looking elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ..tables import audit, flags
from ..timeline import TimelineKind, record

KILL_SWITCH = "remediation_kill_switch"


class Decision(StrEnum):
    EXECUTED = "executed"  # the action is being run (counts for cool-down and hourly limits)
    RESUMED = "resumed"  # run again after its holder stopped mid-run (already counted, same key)
    SUCCEEDED = "succeeded"  # the action reported success
    FAILED = "failed"  # the action reported failure
    DRY_RUN = "dry_run"  # would have run (counts only for later dry-run decisions)
    DRY_RUN_LIMITED = "dry_run_limited"  # would have been limited (cool-down, hourly limit)
    REFUSED = "refused"  # a safety rule said no
    VERIFIED = "verified"  # the alert resolved in time
    VERIFICATION_FAILED = "verification_failed"
    GAVE_UP = "gave_up"  # stopped; a human was paged
    NOT_NEEDED = "not_needed"  # the alert resolved (or the incident closed) before it ran


async def log_decision(
    conn: AsyncConnection,
    now: datetime,
    *,
    incident_id: int,
    remediation_id: int | None,
    playbook: str,
    action: str,
    decision: Decision,
    reason: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.execute(
        audit.insert().values(
            at=now,
            incident_id=incident_id,
            remediation_id=remediation_id,
            playbook=playbook,
            action=action,
            decision=decision.value,
            reason=reason,
            detail=detail,
        )
    )
    await record(
        conn,
        incident_id,
        now,
        TimelineKind.REMEDIATION,
        f"Remediation {playbook} ({action}): {decision.value}: {reason}",
        data={"playbook": playbook, "decision": decision.value, **(detail or {})},
    )


class KillSwitch:
    """The global remediation kill switch, persisted so every replica and restart sees it."""

    def __init__(self, default: bool) -> None:
        self._default = default

    async def engaged(self, conn: AsyncConnection) -> bool:
        value = (await conn.execute(sa.select(flags.c.value).where(flags.c.name == KILL_SWITCH))).scalar_one_or_none()
        return self._default if value is None else bool(value)

    async def state(self, conn: AsyncConnection) -> dict[str, Any]:
        row = (await conn.execute(sa.select(flags).where(flags.c.name == KILL_SWITCH))).first()
        if row is None:
            return {"engaged": self._default, "updated_at": None, "updated_by": "configuration"}
        return {"engaged": bool(row.value), "updated_at": row.updated_at, "updated_by": row.updated_by}

    async def set(self, conn: AsyncConnection, engaged: bool, *, by: str, now: datetime) -> None:
        updated = await conn.execute(
            flags.update().where(flags.c.name == KILL_SWITCH).values(value=engaged, updated_at=now, updated_by=by)
        )
        if updated.rowcount == 0:
            await conn.execute(flags.insert().values(name=KILL_SWITCH, value=engaged, updated_at=now, updated_by=by))
