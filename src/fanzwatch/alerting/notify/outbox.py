"""The persisted outbox's rules: what is queued, in which order it may go, what no longer applies.

Notifications are rows first (queued in the transaction that decided to notify, so none
is lost nor sent for a change that rolled back), deliveries second (``dispatcher``).

Order: the messages of one incident on one channel go out in the order they were queued.
A row may be claimed only while no earlier row of its (incident, channel) is ``pending``
(:func:`head_of_queue`), so a resolve never overtakes its trigger, even when the trigger
waits for a retry or is in flight on another replica.

Superseding: an *opening* message (trigger, reopen, page) that has not gone out when its
incident is acknowledged or resolved is ``superseded`` (not sent, said on the timeline);
one in flight at that moment is superseded if its attempt fails. A *follow-up*
(acknowledge, resolve) is sent only to a channel where an opening message was delivered
and whose last delivered message is not a resolution: PagerDuty is never told to resolve
an incident it never saw (nor to acknowledge one it saw resolve, whose reopen never got
there), and a Slack channel never reads "resolved" about something it was not told about.

Status of a row: ``pending`` → ``sent`` | ``failed`` | ``superseded``, each change a guarded
``UPDATE … WHERE status = 'pending'`` (and the claimer's lease where it applies).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .._sql import insert_ignore
from ..tables import outbox
from ..timeline import TimelineKind, record
from .base import Notification, NotificationEvent


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


OPENING = (NotificationEvent.TRIGGER.value, NotificationEvent.REOPEN.value, NotificationEvent.PAGE.value)
FOLLOW_UP = (NotificationEvent.ACKNOWLEDGE.value, NotificationEvent.RESOLVE.value)
LIVE = (OutboxStatus.PENDING.value, OutboxStatus.SENT.value)  # delivered, or may still be
NOTHING_DELIVERED = "nothing about this incident was delivered there"
LAST_HEARD_RESOLVED = "the last thing delivered there was the resolution"


async def enqueue(
    conn: AsyncConnection,
    *,
    key: str,
    channel: str,
    kind: str,
    notification: Notification,
    now: datetime,
    not_before: datetime | None = None,
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
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": max(now, not_before) if not_before is not None else now,
        },
        ("dedup_key",),
    )
    return new_id is not None


def lease_free(now: datetime) -> sa.ColumnElement[bool]:
    """Nobody holds a live claim on the row."""
    return sa.or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now)


def head_of_queue() -> sa.ColumnElement[bool]:
    """No earlier row of the same incident and channel is still pending."""
    earlier = outbox.alias("earlier")
    return ~sa.exists().where(
        earlier.c.incident_id == outbox.c.incident_id,
        earlier.c.channel == outbox.c.channel,
        earlier.c.status == OutboxStatus.PENDING.value,
        earlier.c.id < outbox.c.id,
    )


def _same_thread(row: Any, address: str | None) -> bool:
    """E-mail threads are per address; other channels have one conversation per incident."""
    return row.kind != "email" or dict(row.payload).get("address") == address


async def channel_history(
    conn: AsyncConnection,
    incident_id: int,
    channel: str,
    *,
    address: str | None = None,
    statuses: Sequence[str] = LIVE,
) -> list[Any]:
    """The incident's rows on ``channel`` (one e-mail ``address``) with ``statuses``, in queue order."""
    rows = (
        await conn.execute(
            sa.select(outbox)
            .where(outbox.c.incident_id == incident_id, outbox.c.channel == channel, outbox.c.status.in_(statuses))
            .order_by(outbox.c.id)
        )
    ).all()
    return [r for r in rows if _same_thread(r, address)]


async def stale_reason(conn: AsyncConnection, row: Any) -> str | None:
    """Why the pending ``row`` should not be sent any more (None: send it).

    An opening message with an acknowledgement or resolution queued after it is
    superseded; a follow-up is pointless where no opening message was delivered.
    """
    if row.incident_id is None:
        return None
    if row.event in OPENING:
        later = (
            await conn.execute(
                sa.select(outbox.c.event)
                .where(
                    outbox.c.incident_id == row.incident_id,
                    outbox.c.channel == row.channel,
                    outbox.c.id > row.id,
                    outbox.c.event.in_(FOLLOW_UP),
                    outbox.c.status.in_(LIVE),
                )
                .order_by(outbox.c.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        return None if later is None else f"superseded, the incident was {_past(later)}"
    if row.event in FOLLOW_UP:
        address = dict(row.payload).get("address")
        sent = await channel_history(conn, row.incident_id, row.channel, address=address, statuses=("sent",))
        if not any(r.event in OPENING for r in sent):
            return NOTHING_DELIVERED
        last = sent[-1].event
        if last == NotificationEvent.RESOLVE.value:
            return LAST_HEARD_RESOLVED  # its reopen never got there: nothing to acknowledge or resolve
        if last == row.event:
            return f"the channel was already told it was {_past(last)}"
    return None


def _past(event: str) -> str:
    return {"acknowledge": "acknowledged", "resolve": "resolved"}.get(event, event)


async def supersede(
    conn: AsyncConnection, row: Any, now: datetime, reason: str, *, guard: sa.ColumnElement[bool]
) -> bool:
    """Mark one pending row superseded (guarded by ``guard``, e.g. the lease); True if it was."""
    result = await conn.execute(
        outbox.update()
        .where(outbox.c.id == row.id, outbox.c.status == OutboxStatus.PENDING.value, guard)
        .values(status=OutboxStatus.SUPERSEDED.value, last_error=reason, claimed_by=None, claimed_until=None)
    )
    if result.rowcount != 1:
        return False
    await _audit(conn, row, now, reason)
    return True


async def supersede_queued(conn: AsyncConnection, incident_id: int, now: datetime, *, because: str) -> int:
    """The incident was acknowledged or resolved: its opening messages not yet out are not sent.

    Rows in flight (a live lease) are left to their attempt: delivered, they are followed up;
    failed, they are superseded then (:func:`stale_reason`). How many were superseded.
    """
    reason = f"superseded, {because}"
    changed = (
        await conn.execute(
            outbox.update()
            .where(
                outbox.c.incident_id == incident_id,
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.event.in_(OPENING),
                lease_free(now),
            )
            .values(status=OutboxStatus.SUPERSEDED.value, last_error=reason, claimed_by=None, claimed_until=None)
            .returning(
                outbox.c.id, outbox.c.incident_id, outbox.c.channel, outbox.c.kind, outbox.c.recipient, outbox.c.event
            )
        )
    ).all()
    for row in sorted(changed, key=lambda r: int(r.id)):
        await _audit(conn, row, now, reason)
    return len(changed)


async def _audit(conn: AsyncConnection, row: Any, now: datetime, reason: str) -> None:
    await record(
        conn,
        int(row.incident_id),
        now,
        TimelineKind.NOTIFICATION_SUPERSEDED,
        f"Not sending {row.event} to {row.recipient} via {row.channel} ({row.kind}): {reason}",
        data={"event": row.event, "recipient": row.recipient, "channel": row.channel, "outbox_id": int(row.id)},
    )


async def reopen_send_time(
    conn: AsyncConnection,
    incident_id: int,
    channel: str,
    *,
    address: str | None,
    now: datetime,
    hold_down: timedelta,
) -> datetime | None:
    """Flap damping's second line, per channel: whether and when a reopen goes out.

    None: do not queue it — the channel's resolve had not gone out yet and is superseded
    now, so the channel never heard the incident was over. Otherwise the earliest send
    time: at most one trigger or reopen per ``hold_down`` reaches a channel, a later one
    waits (and is superseded if the incident resolves again meanwhile).
    """
    history = await channel_history(conn, incident_id, channel, address=address)
    last_message = history[-1] if history else None
    if (
        last_message is not None
        and (last_message.event, last_message.status) == (NotificationEvent.RESOLVE.value, OutboxStatus.PENDING.value)
        and await supersede(conn, last_message, now, "superseded, the incident reopened", guard=lease_free(now))
    ):
        return None
    opened = [
        r.created_at for r in history if r.event in (NotificationEvent.TRIGGER.value, NotificationEvent.REOPEN.value)
    ]
    last: datetime | None = max(opened) if opened else None
    return now if last is None or last + hold_down <= now else last + hold_down
