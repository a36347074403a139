"""The webhook inbox: payloads are stored as received, then processed by a worker.

The receiver answers 202 as soon as the payload is in ``alerting_inbox``: Alertmanager
never waits on incident logic, and a crash between receiving and processing loses
nothing. The worker takes rows in arrival order and applies each alert in its own
transaction (idempotent, so a row half-processed before a crash is simply redone). A
row that fails is retried with exponential backoff (1 s doubling to 5 min, kept per
process: a restart retries at once) for ``max_age`` (24 h) after it was received, so a
database hiccup or a lost race never costs an accepted alert; only then is it set aside
with its error (``alerting_inbox.error``, logged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..core.clock import Clock
from ..core.text import sanitize_text
from .incidents.manager import IncidentManager
from .metrics import AlertingMetrics
from .payload import AlertmanagerPayload
from .tables import alert_events, inbox, incidents

logger = logging.getLogger(__name__)
MAX_AGE = timedelta(hours=24)
RETRY_BASE = timedelta(seconds=1)
RETRY_MAX = timedelta(minutes=5)


class Inbox:
    def __init__(
        self,
        engine: AsyncEngine,
        manager: IncidentManager,
        metrics: AlertingMetrics,
        clock: Clock,
        *,
        on_change: Callable[[], None] = lambda: None,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._engine = engine
        self._manager = manager
        self._metrics = metrics
        self._clock = clock
        self._on_change = on_change
        self._max_age = max_age
        self._retry_at: dict[int, datetime] = {}  # row id -> not before (backoff of failed rows)
        self._lock = asyncio.Lock()

    async def store(self, body: str, now: datetime) -> int:
        """Persist a validated payload; its inbox id."""
        async with self._engine.begin() as conn:
            result = await conn.execute(inbox.insert().values(received_at=now, body=body, attempts=0))
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    async def drain(self) -> int:
        """Process every stored payload not processed yet, oldest first; how many were done."""
        async with self._lock:
            done = last = 0
            while True:  # each row at most once per drain: a failing one waits for the next
                async with self._engine.connect() as conn:
                    rows = (
                        await conn.execute(
                            sa.select(inbox.c.id, inbox.c.body, inbox.c.attempts, inbox.c.received_at)
                            .where(inbox.c.processed_at.is_(None), inbox.c.id > last)
                            .order_by(inbox.c.id)
                            .limit(100)
                        )
                    ).all()
                if not rows:
                    break
                now = self._clock.now()
                for row in rows:
                    last = int(row.id)
                    if self._retry_at.get(last, now) > now:
                        continue  # backing off after a failure
                    if await self._process(last, row.body, int(row.attempts), row.received_at):
                        done += 1
            if done:
                self._on_change()
            return done

    async def purge(self, older_than: datetime) -> int:
        """Delete processed payloads, and the event keys of closed incidents, received before ``older_than``.

        Keys of incidents still open are kept: Alertmanager repeats a long-firing alert
        with its original startsAt, and the key is what makes the repeat a no-op.
        """
        open_ids = sa.select(incidents.c.id).where(incidents.c.status != "resolved")
        async with self._engine.begin() as conn:
            payloads = await conn.execute(
                inbox.delete().where(inbox.c.processed_at.is_not(None), inbox.c.received_at < older_than)
            )
            keys = await conn.execute(
                alert_events.delete().where(
                    alert_events.c.received_at < older_than,
                    sa.or_(alert_events.c.incident_id.is_(None), alert_events.c.incident_id.not_in(open_ids)),
                )
            )
        return int(payloads.rowcount or 0) + int(keys.rowcount or 0)

    async def _process(self, row_id: int, body: str, attempts: int, received_at: datetime) -> bool:
        try:
            payload = AlertmanagerPayload.model_validate_json(body)
            for alert in payload.alerts:
                group_key = self._manager.group_key(payload, alert)
                async with self._engine.begin() as conn:
                    outcome = await self._manager.apply(conn, alert, group_key, self._clock.now())
                platform = self._metrics.platform(alert.labels.get("platform"))
                self._metrics.webhook_alerts.labels(platform, alert.status, outcome.result).inc()
        except Exception as exc:  # keep the worker alive; the row records why
            attempts += 1
            now = self._clock.now()
            give_up = now - received_at >= self._max_age
            if give_up:
                self._retry_at.pop(row_id, None)
            else:
                self._retry_at[row_id] = now + min(RETRY_BASE * 2 ** min(attempts - 1, 20), RETRY_MAX)
            logger.exception(
                "inbox payload %d failed (attempt %d%s)", row_id, attempts, ", giving up" if give_up else ""
            )
            async with self._engine.begin() as conn:
                await conn.execute(  # guarded: never undo another replica's success
                    inbox.update()
                    .where(inbox.c.id == row_id, inbox.c.processed_at.is_(None))
                    .values(
                        attempts=inbox.c.attempts + 1,
                        error=sanitize_text(f"{type(exc).__name__}: {exc}")[:2000],
                        processed_at=now if give_up else None,
                    )
                )
            return False
        self._retry_at.pop(row_id, None)
        async with self._engine.begin() as conn:
            await conn.execute(
                inbox.update()
                .where(inbox.c.id == row_id, inbox.c.processed_at.is_(None))
                .values(processed_at=self._clock.now(), error=None)
            )
        return True
