"""Delivering the outbox: one worker per channel, claims with leases, in queue order.

Each channel has its own worker and concurrency limit, so a slow or dead receiver delays
only its own channel. A delivery is claimed with a lease (``claimed_until``) so several
server replicas share the work and a crashed one's claims are retaken; claims are
released on a clean stop. Only the head of each (incident, channel) queue is claimable
(``outbox.head_of_queue``): messages of one incident reach a receiver in order.

Every change of a row is guarded: a claim by ``status = 'pending'`` and a free lease, the
result of an attempt by ``status = 'pending'`` and ``claimed_by = me`` (a replica whose
lease ran out records nothing; the row is someone else's now). A claim is renewed as its
attempt starts (``_renew``: a batch waits for slots) and must outlast one attempt (the
settings check ``lease`` > timeout + 1 s), so no row is ever in flight on two replicas.

Retries (``retry.RetryPolicy``): timeouts, connection errors, 429 and 5xx are retried with
backoff and jitter, ``Retry-After`` as a minimum, until the message is ``max_age`` old; any
other 4xx fails at once. A message that finally fails is on the incident's timeline and is
handed to ``on_failed`` (the escalation's failover: a fallback channel or the next step).
Delivery is at least once: a crash between a receiver's 2xx and our commit re-sends it.
Every attempt of one message carries the same ``message_key`` (``fanzwatch-outbox-<row>``):
the webhook sends it as ``Idempotency-Key``, e-mail as its ``Message-ID``; PagerDuty
deduplicates by ``dedup_key``.

Idle workers do not spin: a worker with no free slot waits for one; otherwise it sleeps
until the earliest moment a queue head can be claimed (its retry time, or the end of the
lease another replica holds), at most ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...core.clock import Clock
from ...settings.alerting import DeliverySettings
from ..metrics import AlertingMetrics
from ..tables import outbox
from ..timeline import TimelineKind, record
from .base import DeliveryResult, Notification, Notifier, Outcome
from .outbox import OPENING, OutboxStatus, channel_history, head_of_queue, lease_free, stale_reason, supersede
from .retry import RetryPolicy

logger = logging.getLogger(__name__)
BATCH = 50
TICK_ROUNDS = 20  # dispatch_due: rounds of claims per call (a row behind a delivered one goes next round)
PENDING = OutboxStatus.PENDING.value


FailureHook = Callable[[AsyncConnection, Any, Notification, datetime, str], Awaitable[None]]
"""``(conn, outbox row, notification, now, why)``: called in the transaction that failed the row."""


class _LostLease(Exception):
    """Our claim on the row ran out and someone else owns it now: record nothing."""


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
        on_failed: FailureHook | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._engine = engine
        self._on_failed = on_failed
        self._retry = retry or RetryPolicy(delivery)
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
                .where(outbox.c.claimed_by == self._me, outbox.c.status == PENDING)
                .values(claimed_by=None, claimed_until=None)
            )

    async def _loop(self, channel: str) -> None:
        """Keep up to ``concurrency`` deliveries of this channel in flight; never wait for a batch.

        A hung receiver holds one slot until its timeout; the other slots go on delivering.
        """
        poll = self._delivery.poll_interval.total_seconds()
        limit = self._notifiers[channel].concurrency
        in_flight: set[asyncio.Task[None]] = set()
        missed = False  # the last round found something due it could not claim
        while not self._stopping.is_set():
            wait = poll  # no free slot: a finishing delivery wakes us
            try:
                if len(in_flight) < limit:
                    claimed, progressed = await self._claim(channel, limit - len(in_flight))
                    for row_id, payload in claimed:
                        task = asyncio.create_task(self._deliver(channel, row_id, payload))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                        task.add_done_callback(lambda _t: self._wake[channel].set())  # a slot is free
                    if progressed:
                        missed = False
                        continue
                    wait = await self._seconds_until_due(channel, poll)
                    if wait <= 0.0:
                        # Due by the clock yet not claimable (a lease ending this instant): try
                        # once more at once, then fall back to the poll interval, never spin.
                        wait, missed = (poll, False) if missed else (0.0, True)
                    else:
                        missed = False
            except Exception:  # a database hiccup must not end the worker
                logger.exception("outbox worker for channel %s failed; retrying", channel)
            if wait > 0.0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake[channel].wait(), timeout=wait)
            self._wake[channel].clear()
        await asyncio.gather(*in_flight, return_exceptions=True)  # their sends were cancelled: quick

    async def _seconds_until_due(self, channel: str, poll: float) -> float:
        """Until the earliest queue head may be claimed: its retry time, or the end of its lease."""
        ready_at = sa.case(
            (outbox.c.claimed_until > outbox.c.next_attempt_at, outbox.c.claimed_until),
            else_=outbox.c.next_attempt_at,
        )
        async with self._engine.connect() as conn:
            due = (
                await conn.execute(
                    sa.select(sa.func.min(ready_at)).where(
                        outbox.c.status == PENDING, outbox.c.channel == channel, head_of_queue()
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
        """Claim and attempt the due deliveries of one channel, waiting for them; how many.

        Round after round, so a message queued behind one delivered now goes in the same call.
        """
        attempted = 0
        for _ in range(TICK_ROUNDS):
            claimed, progressed = await self._claim(channel, BATCH)
            if claimed:
                await asyncio.gather(*(self._deliver(channel, row_id, payload) for row_id, payload in claimed))
            attempted += len(claimed)
            if not progressed:
                break
        return attempted

    async def _claim(self, channel: str, limit: int) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
        """Claim up to ``limit`` due queue heads; (claimed rows, whether any row changed)."""
        now = self._clock.now()
        free = lease_free(now)
        claimed: list[tuple[int, dict[str, Any]]] = []
        superseded = 0
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox)
                    .where(outbox.c.status == PENDING, outbox.c.channel == channel, outbox.c.next_attempt_at <= now)
                    .where(free, head_of_queue())
                    .order_by(outbox.c.next_attempt_at, outbox.c.id)
                    .limit(limit)
                )
            ).all()
            for row in rows:
                reason = await stale_reason(conn, row)
                if reason is not None:
                    superseded += await supersede(conn, row, now, reason, guard=free)
                    continue
                result = await conn.execute(
                    outbox.update()
                    .where(outbox.c.id == row.id, outbox.c.status == PENDING, free)
                    .values(claimed_by=self._me, claimed_until=now + self._delivery.lease)
                )
                if result.rowcount == 1:
                    at_delivery = {"thread": await self._thread(conn, row), "message_key": f"fanzwatch-outbox-{row.id}"}
                    claimed.append((int(row.id), {**dict(row.payload), **at_delivery}))
        return claimed, bool(claimed or superseded)

    async def _thread(self, conn: AsyncConnection, row: Any) -> str | None:
        """The receipt of the first message delivered about this incident on this channel."""
        if row.incident_id is None:
            return None
        address = dict(row.payload).get("address")
        for sent in await channel_history(conn, row.incident_id, row.channel, address=address, statuses=("sent",)):
            if sent.receipt:
                return str(sent.receipt)
        return None

    async def _send(self, notifier: Notifier, notification: Notification, row_id: int) -> DeliveryResult:
        try:
            async with asyncio.timeout(notifier.timeout + 1.0):  # a hard cap over the notifier's own timeouts
                return await notifier.send(notification)
        except TimeoutError:
            return DeliveryResult.retry(f"no answer within {notifier.timeout:g} s")
        except Exception as exc:  # a notifier bug must not lose the notification
            logger.exception("notifier %s raised on outbox row %d", notifier.name, row_id)
            return DeliveryResult.retry(f"notifier error: {type(exc).__name__}")

    async def _deliver(self, channel: str, row_id: int, payload: dict[str, Any]) -> None:
        notifier = self._notifiers[channel]
        notification = Notification.from_json(payload)
        async with self._limits[channel]:
            if self._stopping.is_set():
                return
            if not await self._renew(row_id):
                logger.warning("outbox row %d: its claim ran out while it waited for a slot; not sending", row_id)
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
        except _LostLease:
            logger.warning("outbox row %d: the lease ran out during the attempt; another replica owns it", row_id)
        except Exception:
            logger.exception("could not record the delivery of outbox row %d; it will be retried", row_id)

    async def _renew(self, row_id: int) -> bool:
        """Extend our claim as the attempt starts; False if another replica took the row meanwhile.

        A batch is claimed at once but sent ``concurrency`` at a time (``dispatch_due``), so a
        row may wait for its slot longer than its lease; without this another replica could
        retake it then and both would send it.
        """
        now = self._clock.now()
        async with self._engine.begin() as conn:
            result = await conn.execute(
                outbox.update()
                .where(outbox.c.id == row_id, outbox.c.status == PENDING, outbox.c.claimed_by == self._me)
                .values(claimed_until=now + self._delivery.lease)
            )
        return result.rowcount == 1

    async def _finish(self, notifier: Notifier, row_id: int, n: Notification, result: DeliveryResult) -> None:
        now = self._clock.now()
        mine = sa.and_(outbox.c.status == PENDING, outbox.c.claimed_by == self._me)
        async with self._engine.begin() as conn:
            row = (await conn.execute(sa.select(outbox).where(outbox.c.id == row_id, mine))).first()
            if row is None:
                raise _LostLease
            attempts = int(row.attempts) + 1
            values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
            who = f"{n.recipient} via {notifier.name} ({notifier.kind})"
            labels = (n.platform, notifier.name, notifier.kind)
            if result.outcome is Outcome.DELIVERED:
                values |= {"status": OutboxStatus.SENT.value, "sent_at": now, "last_error": None}
                values["receipt"] = result.receipt[:512] if result.receipt else None
                await self._update(conn, row_id, mine, values)
                self._metrics.sent.labels(*labels).inc()
                await self._timeline(conn, n, now, TimelineKind.NOTIFIED, f"Notified {who}: {n.event.value}")
                return
            if row.event in OPENING and (stale := await stale_reason(conn, row)) is not None:
                await self._update(conn, row_id, mine, {"attempts": attempts, "last_error": result.detail})
                if not await supersede(conn, row, now, stale, guard=mine):
                    raise _LostLease
                return
            created_at: datetime = row.created_at
            next_at = (
                self._retry.next_attempt(attempts, created_at=created_at, now=now, retry_after=result.retry_after)
                if result.outcome is Outcome.RETRY
                else None
            )
            if next_at is not None:
                values |= {"next_attempt_at": next_at, "last_error": result.detail}
                await self._update(conn, row_id, mine, values)
                self._metrics.retries.labels(*labels).inc()
                return
            rejected = result.outcome is Outcome.REJECTED
            values |= {"status": OutboxStatus.FAILED.value, "last_error": result.detail}
            await self._update(conn, row_id, mine, values)
            self._metrics.failed.labels(*labels, "rejected" if rejected else "exhausted").inc()
            why = (
                "refused"
                if rejected
                else "failed " + self._retry.why_given_up(attempts, created_at=created_at, now=now)
            )
            message = f"Notification to {who} {why}: {result.detail}"
            await self._timeline(conn, n, now, TimelineKind.NOTIFICATION_FAILED, message)
            if self._on_failed is not None:
                await self._on_failed(conn, row, n, now, f"{notifier.name} {why}: {result.detail}")

    async def _update(
        self, conn: AsyncConnection, row_id: int, guard: sa.ColumnElement[bool], values: dict[str, object]
    ) -> None:
        result = await conn.execute(outbox.update().where(outbox.c.id == row_id, guard).values(**values))
        if result.rowcount != 1:
            raise _LostLease

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
                    outbox.update()
                    .where(
                        outbox.c.status == PENDING,
                        outbox.c.channel.not_in(list(self._notifiers) or [""]),
                        lease_free(now),
                    )
                    .values(
                        status=OutboxStatus.FAILED.value,
                        last_error="channel '" + outbox.c.channel + "' is not configured",
                    )
                    .returning(outbox.c.id, outbox.c.payload, outbox.c.channel, outbox.c.kind)
                )
            ).all()
            for row in sorted(rows, key=lambda r: int(r.id)):
                n = Notification.from_json(dict(row.payload))
                self._metrics.failed.labels(n.platform, row.channel, row.kind, "unconfigured").inc()
                why = f"Channel {row.channel!r} is no longer configured"
                await self._timeline(conn, n, now, TimelineKind.NOTIFICATION_FAILED, why)
                if self._on_failed is not None:
                    full = (await conn.execute(sa.select(outbox).where(outbox.c.id == row.id))).one()
                    await self._on_failed(conn, full, n, now, why.lower())
        return len(rows)

    async def refresh_gauges(self) -> None:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(outbox.c.platform, outbox.c.channel, sa.func.count())
                    .where(outbox.c.status == PENDING)
                    .group_by(outbox.c.platform, outbox.c.channel)
                )
            ).all()
        self._metrics.set_outbox_pending({(r[0], r[1]): int(r[2]) for r in rows}, self._notifiers)
