"""A playbook's limits: the cool-down and ``max_runs_per_hour``, serialised across replicas.

**Scope.** A playbook whose action uses ``{platform}`` (a URL, an argument...) acts on one
platform at a time, so its limits hold per (playbook, platform): a run on fanz-1 does not
hold back fanz-2. A playbook whose action is the same whichever platform alerted (a fixed
URL, a shared process) has one cool-down and one hourly count for all platforms.

**What counts.** Real runs (``executed`` in the audit log) count for real decisions. A
dry-run is free: it never counts for a real decision and never pages. Dry-run decisions
are checked against real runs *plus* earlier dry-run "would have run" decisions, so the
audit log says what the configuration would have done ("would have been limited").

**Serialised.** The check and the ``executed`` row it leads to are one transaction, and
two replicas must not both pass the check: on PostgreSQL the transaction first takes
``pg_advisory_xact_lock`` on the (playbook, scope) key (released at commit); on SQLite the
claim that starts the transaction already made it the single writer of the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...settings.alerting import PLACEHOLDER, PlaybookConfig
from ..tables import audit, remediations
from ..timeline import human
from .audit import Decision

HOUR = timedelta(hours=1)
ALL_PLATFORMS = "*"
REAL_RUNS = (Decision.EXECUTED.value,)
SIMULATED_RUNS = (Decision.EXECUTED.value, Decision.DRY_RUN.value)


def targets_platform(playbook: PlaybookConfig) -> bool:
    """Whether the playbook's action depends on the alert's platform (uses ``{platform}``)."""
    return any("platform" in PLACEHOLDER.findall(text) for text in playbook.action.templates())


def limit_scope(playbook: PlaybookConfig, platform: str) -> str:
    """The platform the limits are counted for, or ``*`` for all platforms together."""
    return platform if targets_platform(playbook) else ALL_PLATFORMS


def advisory_key(playbook: str, scope: str) -> int:
    """A stable signed 64-bit key (the same in every process, unlike ``hash()``)."""
    digest = hashlib.sha256(f"fanzwatch.remediation:{playbook}:{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True)
class Limited:
    """A limit that stops the run: which, why, and (cool-down) when to try again."""

    rule: Literal["cooldown", "rate_limited"]
    reason: str
    retry_at: datetime | None = None
    runs: int = 0  # runs in the last hour (rate_limited)


async def serialise(conn: AsyncConnection, playbook: PlaybookConfig, platform: str) -> None:
    """Hold the (playbook, scope) lock until this transaction ends (PostgreSQL; SQLite: no-op)."""
    if conn.dialect.name == "postgresql":
        key = advisory_key(playbook.name, limit_scope(playbook, platform))
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _runs(playbook: PlaybookConfig, platform: str, decisions: tuple[str, ...]) -> sa.Select[Any]:
    query = sa.select(sa.func.count()).where(audit.c.playbook == playbook.name, audit.c.decision.in_(decisions))
    if targets_platform(playbook):
        query = query.where(
            audit.c.remediation_id.in_(
                sa.select(remediations.c.id).where(
                    remediations.c.playbook == playbook.name, remediations.c.platform == platform
                )
            )
        )
    return query


async def check(
    conn: AsyncConnection, playbook: PlaybookConfig, platform: str, now: datetime, *, simulated: bool
) -> Limited | None:
    """The limit a run at ``now`` would break, if any; call after ``serialise`` in the same transaction."""
    decisions = SIMULATED_RUNS if simulated else REAL_RUNS
    last_query = _runs(playbook, platform, decisions).with_only_columns(sa.func.max(audit.c.at))
    last = (await conn.execute(last_query)).scalar_one_or_none()
    if isinstance(last, datetime) and now < last + playbook.cooldown:
        until = last + playbook.cooldown
        return Limited(
            "cooldown",
            f"cooldown: last {'run or dry-run' if simulated else 'run'} {last.isoformat()}, "
            f"cool-down {human(playbook.cooldown)}; "
            f"next try at {until.isoformat()}",
            until,
        )
    runs = int((await conn.execute(_runs(playbook, platform, decisions).where(audit.c.at > now - HOUR))).scalar_one())
    if runs >= playbook.max_runs_per_hour:
        reason = f"rate_limited: {runs} runs in the last hour (max {playbook.max_runs_per_hour})"
        return Limited("rate_limited", reason, runs=runs)
    return None
