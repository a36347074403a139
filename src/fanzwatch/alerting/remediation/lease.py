"""Who runs a remediation's action: a claim with an owner and a lease, like the outbox's.

A replica claims a due remediation (``pending``/``waiting`` → ``running``, ``claimed_by``
itself, ``claimed_until`` now + lease) with a guarded update, so exactly one replica wins.
While the action runs the holder renews the lease every third of it. Only an *expired*
lease is taken over (``recover``): its holder died, or lost the database for a whole
lease. A clean stop that cuts an action short gives the claim back at once. Either way the
remediation is marked ``interrupted`` and resumed: run again with the same idempotency
key, not counted again for the limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.clock import Clock
from ..tables import remediations

logger = logging.getLogger(__name__)
DUE = ("pending", "waiting")


class RemediationLease:
    def __init__(self, engine: AsyncEngine, owner: str, lease: timedelta, clock: Clock) -> None:
        self._engine = engine
        self.owner = owner
        self._lease = lease
        self._clock = clock

    def _mine(self, rid: int) -> sa.ColumnElement[bool]:
        return sa.and_(
            remediations.c.id == rid, remediations.c.status == "running", remediations.c.claimed_by == self.owner
        )

    async def claim(self, conn: AsyncConnection, rid: int) -> bool:
        """Take a due remediation for this replica; False if another replica (or state) won."""
        now = self._clock.now()
        claimed = await conn.execute(
            remediations.update()
            .where(remediations.c.id == rid, remediations.c.status.in_(DUE), remediations.c.next_try_at <= now)
            .values(status="running", claimed_by=self.owner, claimed_until=now + self._lease, updated_at=now)
        )
        return claimed.rowcount == 1

    async def recover(self) -> int:
        """Expired leases (their holder is gone) become due again, marked interrupted; how many."""
        now = self._clock.now()
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                remediations.update()
                .where(
                    remediations.c.status == "running",
                    sa.or_(remediations.c.claimed_until.is_(None), remediations.c.claimed_until <= now),
                )
                .values(
                    status="waiting",
                    interrupted=True,
                    next_try_at=now,
                    claimed_by=None,
                    claimed_until=None,
                    updated_at=now,
                )
            )
        if taken.rowcount:
            logger.warning("resuming %d remediation(s) whose replica stopped during the action", taken.rowcount)
        return int(taken.rowcount)

    async def release(self, conn: AsyncConnection, rid: int, **values: object) -> bool:
        """End this replica's claim, setting ``values``; False if the claim was lost meanwhile."""
        now = self._clock.now()
        done = await conn.execute(
            remediations.update()
            .where(self._mine(rid))
            .values(claimed_by=None, claimed_until=None, updated_at=now, **values)
        )
        return done.rowcount == 1

    async def _renew(self, rid: int) -> bool:
        async with self._engine.begin() as conn:
            renewed = await conn.execute(
                remediations.update().where(self._mine(rid)).values(claimed_until=self._clock.now() + self._lease)
            )
        return renewed.rowcount == 1

    async def _keep_renewing(self, rid: int) -> None:
        period = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            try:
                if not await self._renew(rid):
                    logger.warning("remediation %d: lost its claim while the action ran", rid)
                    return
            except Exception:  # the database is away: try again; the lease may still hold
                logger.exception("remediation %d: renewing the claim failed", rid)

    @contextlib.asynccontextmanager
    async def held(self, rid: int) -> AsyncIterator[None]:
        """Renew the claim while the body (the action) runs; give it back if the body is cancelled."""
        renewer = asyncio.create_task(self._keep_renewing(rid), name=f"remediation-{rid}-lease")
        try:
            yield
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                async with self._engine.begin() as conn:
                    await self.release(conn, rid, status="waiting", interrupted=True, next_try_at=self._clock.now())
            raise
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
