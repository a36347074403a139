"""The persisted outbox: notifications are rows first, deliveries second.

Queueing happens inside the transaction that decided to notify (so a notification is
never lost, nor sent for a change that rolled back). Each channel has its own worker and
concurrency limit, so a slow or dead receiver delays only its own channel. A delivery
is claimed with a lease (``claimed_until``) so several server replicas share the work
and a crashed one's claims are retaken; claims are released on a clean stop.

Retries: timeouts, connection errors, 429 and 5xx are retried with exponential backoff
(``Retry-After`` wins when given) up to ``max_attempts``; any other 4xx fails at once.
Delivery is at least once: a crash between a receiver's 2xx and our commit re-sends it
(PagerDuty deduplicates by ``dedup_key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.clock import Clock
from ...settings.alerting import DeliverySettings
from .._sql import insert_ignore
from ..metrics import AlertingMetrics
from ..tables import outbox
from ..timeline import TimelineKind, record
from .base import DeliveryResult, Notification, Notifier, Outcome

logger = logging.getLogger(__name__)
BATCH = 50
MAX_RETRY_AFTER = timedelta(hours=1)


async def enqueue(
    conn: AsyncConnection, *, key: str, channel: str, kind: str, notification: Notification, now: datetime
) -> bool:
    """Queue ``notification`` for ``channel`` unless ``key`` was queued before; True if queued."""
    new_id = await insert_ignore(
        conn,
        outbox,
        {
            "dedup_key": key[:512],
            "incident_id": notification.incident_id,
            "platform": notification.platform,
            "channel": channel,
            "kind": kind,
            "recipient": notification.recipient,
            "event": notification.event.value,
            "payload": notification.to_json(),
            "status": "pending",
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        },
        ("dedup_key",),
    )
    return new_id is not None


class OutboxDispatcher:
    """Delivers queued notifications, one worker per channel."""

    def __init__(
        self,
        engine: AsyncEngine,
        notifiers: Mapping[str, Notifier],
        delivery: DeliverySettings,
        clock: Clock,
        metrics: AlertingMetrics,
        *,
        instance_id: str,
    ) -> None:
        self._engine = engine
        self._notifiers = dict(notifiers)
        self._delivery = delivery
        self._clock = clock
        self._metrics = metrics
        self._me = instance_id
        self._wake = {name: asyncio.Event() for name in self._notifiers}
        self._limits = {name: asyncio.Semaphore(n.concurrency) for name, n in self._notifiers.items()}
        self._tasks: list[asyncio.Task[None]] = []
        self._sends: set[asyncio.Task[DeliveryResult]] = set()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    async def start(self) -> None:
        await self.fail_unconfigured()
        self._stopping.clear()
        for name in self._notifiers:
            self._tasks.append(asyncio.create_task(self._loop(name), name=f"fanzwatch-outbox-{name}"))

    async def stop(self, *, grace: float = 5.0) -> None:
        """Stop the workers, cancelling only network calls in flight, never a database write.

        Deliveries cut short stay pending (their claims are released) and go out after the
        next start. Workers that do not finish within ``grace`` seconds are cancelled.
        """
        self._stopping.set()
        self.wake()
        for send in list(self._sends):
            send.cancel()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._tasks.clear()
        async with self._engine.begin() as conn:
            await conn.execute(
                outbox.update()
                .where(outbox.c.claimed_by == self._me, outbox.c.status == "pending")
                .values(claimed_by=None, claimed_until=None)
            )

    async def _loop(self, channel: str) -> None:
        """Keep up to ``concurrency`` deliveries of this channel in flight; never wait for a batch.

        A hung receiver holds one slot until its timeout; the other slots go on delivering.
        """
        poll = self._delivery.poll_interval.total_seconds()
        limit = self._notifiers[channel].concurrency
        in_flight: set[asyncio.Task[None]] = set()
        while not self._stopping.is_set():
            wait = poll
            try:
                free = limit - len(in_flight)
                claimed = await self._claim(channel, free) if free > 0 else []
                for row_id, payload in claimed:
                    task = asyncio.create_task(self._deliver(channel, row_id, payload))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    task.add_done_callback(lambda _t: self._wake[channel].set())  # a slot is free
                if claimed:
                    continue
                wait = await self._seconds_until_due(channel, poll)
            except Exception:  # a database hiccup must not end the worker
                logger.exception("outbox worker for channel %s failed; retrying", channel)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake[channel].wait(), timeout=wait)
            self._wake[channel].clear()
        await asyncio.gather(*in_flight, return_exceptions=True)  # their sends were cancelled: quick

    async def _seconds_until_due(self, channel: str, poll: float) -> float:
        async with self._engine.connect() as conn:
            due = (
                await conn.execute(
                    sa.select(sa.func.min(outbox.c.next_attempt_at)).where(
                        outbox.c.status == "pending", outbox.c.channel == channel
                    )
                )
            ).scalar_one_or_none()
        if not isinstance(due, datetime):
            return poll
        return min(poll, max(0.0, (due - self._clock.now()).total_seconds()))

    async def dispatch_all_due(self) -> int:
        """Deliver everything due on every channel, channels in parallel; how many were attempted."""
        await self.fail_unconfigured()
        counts = await asyncio.gather(*(self.dispatch_due(name) for name in self._notifiers))
        return sum(counts)

    async def dispatch_due(self, channel: str) -> int:
        """Claim and attempt the due deliveries of one channel, waiting for them; how many."""
        claimed = await self._claim(channel, BATCH)
        if claimed:
            await asyncio.gather(*(self._deliver(channel, row_id, payload) for row_id, payload in claimed))
        return len(claimed)

    async def _claim(self, channel: str, limit: int) -> list[tuple[int, dict[str, object]]]:
        now = self._clock.now()
        free = sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.id, outbox.c.payload)
                    .where(outbox.c.status == "pending", outbox.c.channel == channel, outbox.c.next_attempt_at <= now)
                    .where(free)
                    .order_by(outbox.c.next_attempt_at, outbox.c.id)
                    .limit(limit)
                )
            ).all()
            claimed = []
            for row in rows:
                result = await conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id, outbox.c.status == "pending", free)
                    .values(claimed_by=self._me, claimed_until=now + self._delivery.lease)
                )
                if result.rowcount == 1:
                    claimed.append((int(row.id), dict(row.payload)))
        return claimed

    async def _send(self, notifier: Notifier, notification: Notification, row_id: int) -> DeliveryResult:
        try:
            async with asyncio.timeout(notifier.timeout + 1.0):  # a hard cap over the notifier's own timeouts
                return await notifier.send(notification)
        except TimeoutError:
            return DeliveryResult.retry(f"no answer within {notifier.timeout:g} s")
        except Exception as exc:  # a notifier bug must not lose the notification
            logger.exception("notifier %s raised on outbox row %d", notifier.name, row_id)
            return DeliveryResult.retry(f"notifier error: {type(exc).__name__}")

    async def _deliver(self, channel: str, row_id: int, payload: dict[str, object]) -> None:
        notifier = self._notifiers[channel]
        notification = Notification.from_json(payload)
        async with self._limits[channel]:
            if self._stopping.is_set():
                return
            send = asyncio.create_task(self._send(notifier, notification, row_id))
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)
            try:
                result = await send
            except asyncio.CancelledError:
                if self._stopping.is_set() and send.cancelled():
                    return  # stopping: the row stays pending and its claim is released
                raise
        try:
            await self._finish(notifier, row_id, notification, result)
        except Exception:
            logger.exception("could not record the delivery of outbox row %d; it will be retried", row_id)

    def _retry_delay(self, attempts: int, result: DeliveryResult) -> timedelta:
        if result.retry_after is not None:
            return min(timedelta(seconds=result.retry_after), MAX_RETRY_AFTER)
        backoff: timedelta = self._delivery.backoff_base * (2 ** max(0, attempts - 1))
        return min(backoff, self._delivery.backoff_max)

    async def _finish(self, notifier: Notifier, row_id: int, n: Notification, result: DeliveryResult) -> None:
        now = self._clock.now()
        async with self._engine.begin() as conn:
            attempts = (
                int((await conn.execute(sa.select(outbox.c.attempts).where(outbox.c.id == row_id))).scalar_one()) + 1
            )
            values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
            who = f"{n.recipient} via {notifier.name} ({notifier.kind})"
            if result.outcome is Outcome.DELIVERED:
                values |= {"status": "sent", "sent_at": now, "last_error": None}
                self._metrics.sent.labels(n.platform, notifier.name, notifier.kind).inc()
                await self._timeline(conn, n, now, TimelineKind.NOTIFIED, f"Notified {who}: {n.event.value}")
            elif result.outcome is Outcome.RETRY and attempts < self._delivery.max_attempts:
                delay = self._retry_delay(attempts, result)
                values |= {"next_attempt_at": now + delay, "last_error": result.detail}
                self._metrics.retries.labels(n.platform, notifier.name, notifier.kind).inc()
            else:
                reason = "rejected" if result.outcome is Outcome.REJECTED else "exhausted"
                values |= {"status": "failed", "last_error": result.detail}
                self._metrics.failed.labels(n.platform, notifier.name, notifier.kind, reason).inc()
                message = (
                    f"Notification to {who} refused: {result.detail}"
                    if reason == "rejected"
                    else f"Notification to {who} failed after {attempts} attempts: {result.detail}"
                )
                await self._timeline(conn, n, now, TimelineKind.NOTIFICATION_FAILED, message)
            await conn.execute(outbox.update().where(outbox.c.id == row_id).values(**values))

    async def _timeline(
        self, conn: AsyncConnection, n: Notification, now: datetime, kind: TimelineKind, message: str
    ) -> None:
        await record(conn, n.incident_id, now, kind, message, data={"event": n.event.value, "recipient": n.recipient})

    async def fail_unconfigured(self) -> int:
        """Pending rows for channels no longer configured cannot be sent: fail them, visibly."""
        now = self._clock.now()
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.id, outbox.c.payload, outbox.c.channel, outbox.c.kind).where(
                        outbox.c.status == "pending", outbox.c.channel.not_in(list(self._notifiers) or [""])
                    )
                )
            ).all()
            for row in rows:
                n = Notification.from_json(dict(row.payload))
                await conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id)
                    .values(status="failed", last_error=f"channel {row.channel!r} is not configured")
                )
                self._metrics.failed.labels(n.platform, row.channel, row.kind, "unconfigured").inc()
                await self._timeline(
                    conn, n, now, TimelineKind.NOTIFICATION_FAILED, f"Channel {row.channel!r} is no longer configured"
                )
        return len(rows)

    async def refresh_gauges(self) -> None:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.platform, outbox.c.channel, sa.func.count())
                    .where(outbox.c.status == "pending")
                    .group_by(outbox.c.platform, outbox.c.channel)
                )
            ).all()
        self._metrics.set_outbox_pending({(r[0], r[1]): int(r[2]) for r in rows}, self._notifiers)
