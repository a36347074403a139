"""Incident transitions under concurrency: every change is a guarded compare-and-set.

The races are made deterministic on the real PostgreSQL: the test holds the incident's
row lock, starts the competing transitions in a chosen order, waits until each is
blocked on that lock, then lets go. PostgreSQL hands the row to the waiters in order
(unless one already shares a lock on it), and each re-evaluates its ``WHERE status = ...``
against the winner's committed row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from fanzwatch.alerting import AlertingService, AlertmanagerPayload, IncidentStateError
from fanzwatch.alerting.tables import incidents, outbox, timeline

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    T0,
    TOKEN,
    Harness,
    advance,
    am_alert,
    am_payload,
    api_client,
    eventually,
    make_harness,
    on_call_settings,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Harness]:
    async for h in make_harness(pg_url):
        yield h


async def _waiting_on_locks(h: Harness) -> int:
    async with h.engine.connect() as conn:
        n = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(n or 0)


class RowLock:
    """Holds ``FOR NO KEY UPDATE`` on one incident (what an UPDATE of it takes)."""

    def __init__(self, h: Harness, incident_id: int) -> None:
        self._h, self._id = h, incident_id
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> RowLock:
        self._conn = await self._h.engine.connect()
        await self._conn.begin()
        await self._conn.execute(
            sa.text("SELECT id FROM alerting_incidents WHERE id = :id FOR NO KEY UPDATE"), {"id": self._id}
        )
        return self

    async def queue(self, call: Any, waiting: int) -> asyncio.Task[Any]:
        """Start ``call`` and return once it (the ``waiting``-th waiter) blocks on the lock."""
        task = asyncio.ensure_future(call)
        await eventually(f"{waiting} transaction(s) blocked on the incident row", self._blocked(waiting))
        return task

    def _blocked(self, n: int) -> Any:
        async def probe() -> bool:
            return await _waiting_on_locks(self._h) >= n

        return probe

    async def __aexit__(self, *exc: object) -> None:
        assert self._conn is not None
        await self._conn.rollback()
        await self._conn.close()


async def _opened(h: Harness, svc: AlertingService) -> None:
    async with api_client(svc) as c:
        assert (await c.post("/api/v1/alerts/webhook", json=am_payload(am_alert()), headers=_auth())).status_code == 202
    await svc.tick()
    advance(h.clock, minutes=2)


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


async def _row(h: Harness, incident_id: int = 1) -> Any:
    async with h.engine.connect() as conn:
        return (await conn.execute(sa.select(incidents).where(incidents.c.id == incident_id))).one()


async def _kinds(h: Harness, incident_id: int = 1) -> list[str]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(timeline.c.kind).where(timeline.c.incident_id == incident_id).order_by(timeline.c.id)
        )
        return list(rows.scalars())


async def _events(h: Harness) -> list[tuple[str, str]]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.event, outbox.c.channel).order_by(outbox.c.id))
        return [(r.event, r.channel) for r in rows]


def assert_valid(row: Any) -> None:
    """The invariants of one incident row: its status and its timestamps tell the same story."""
    if row.status == "resolved":
        assert row.resolved_at is not None and row.open_group_key is None and row.next_escalation_at is None
    else:
        assert row.resolved_at is None and row.resolved_by is None
        assert row.open_group_key == row.group_key
    if row.status == "acknowledged":
        assert row.acknowledged_at is not None and row.next_escalation_at is None
    assert (row.status == "resolving") == (row.resolve_after is not None)


async def test_resolve_then_acknowledge_racing_leaves_it_resolved_and_the_ack_refused(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """The ghost of issue 13: before, the ack overwrote the resolve (``acknowledged``, ``resolved_at`` set,
    no group key: active for ever, never escalated, never closed)."""
    svc = pg.service(on_call_settings(slack, pagerduty))
    await _opened(pg, svc)
    now = pg.clock.now()
    async with RowLock(pg, 1) as lock:
        resolving = await lock.queue(svc.operations.resolve(1, by="ben", now=now), waiting=1)
        acking = await lock.queue(svc.operations.acknowledge(1, by="ana", now=now), waiting=2)
    resolved = await resolving
    with pytest.raises(IncidentStateError, match="already resolved"):
        await acking
    row = await _row(pg)
    assert_valid(row)
    assert (row.status, row.resolved_by, row.acknowledged_at) == ("resolved", "ben", None)
    assert resolved.status.value == "resolved"
    assert (await _kinds(pg)).count("acknowledged") == 0
    assert [e for e, _ in await _events(pg)].count("acknowledge") == 0


async def test_acknowledge_then_resolve_racing_leaves_it_resolved_after_the_ack(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    svc = pg.service(on_call_settings(slack, pagerduty))
    await _opened(pg, svc)
    now = pg.clock.now()
    async with RowLock(pg, 1) as lock:
        acking = await lock.queue(svc.operations.acknowledge(1, by="ana", now=now), waiting=1)
        resolving = await lock.queue(svc.operations.resolve(1, by="ben", now=now), waiting=2)
    acked, changed = await acking
    await resolving
    row = await _row(pg)
    assert_valid(row)
    assert changed and acked.status.value == "acknowledged"
    assert (row.status, row.acknowledged_by, row.resolved_by) == ("resolved", "ana", "ben")
    assert (await _kinds(pg))[-2:] == ["acknowledged", "resolved"]


async def test_two_replicas_acknowledging_at_once_change_it_once(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    first = pg.service(on_call_settings(slack, pagerduty))
    second = pg.service(on_call_settings(slack, pagerduty))
    await _opened(pg, first)
    now = pg.clock.now()
    async with RowLock(pg, 1) as lock:
        one = await lock.queue(first.operations.acknowledge(1, by="ana", now=now), waiting=1)
        two = await lock.queue(second.operations.acknowledge(1, by="ben", now=now), waiting=2)
    (_, changed_one), (acked, changed_two) = await one, await two
    assert (changed_one, changed_two) == (True, False)
    assert acked.acknowledged_by == "ana"
    assert (await _kinds(pg)).count("acknowledged") == 1
    assert [e for e, _ in await _events(pg)].count("acknowledge") == 2  # once per channel (PagerDuty, Slack)


async def test_alertmanager_resolving_while_a_human_resolves_closes_it_once(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    svc = pg.service(on_call_settings(slack, pagerduty))
    await _opened(pg, svc)
    async with api_client(svc) as c:
        resolved = am_payload(am_alert(status="resolved", ends_at=pg.clock.now()))
        assert (await c.post("/api/v1/alerts/webhook", json=resolved, headers=_auth())).status_code == 202
    async with RowLock(pg, 1) as lock:
        human = await lock.queue(svc.operations.resolve(1, by="ana", now=pg.clock.now()), waiting=1)
        machine = await lock.queue(svc.inbox.drain(), waiting=2)
    # Alertmanager's transaction touches the row first (a timeline entry's foreign key), so
    # PostgreSQL may hand it the row first: either may win, exactly one resolves.
    human_won = True
    try:
        await human
    except IncidentStateError:
        human_won = False
    assert await machine == 1
    row = await _row(pg)
    assert_valid(row)
    assert row.resolved_by == ("ana" if human_won else "alertmanager")
    assert (await _kinds(pg)).count("resolved") == 1
    assert [e for e, _ in await _events(pg)].count("resolve") == 2  # once per channel


async def _apply(svc: AlertingService, alert: dict[str, Any], now: Any) -> Any:
    payload = AlertmanagerPayload.model_validate(am_payload(alert))
    one = payload.alerts[0]
    async with svc.engine.begin() as conn:
        return await svc.manager.apply(conn, one, svc.manager.group_key(payload, one), now)


async def test_two_replicas_reopening_one_incident_reopen_it_once(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """Two alerts of a group that resolved a minute ago fire again at once, one on each replica."""
    first = pg.service(on_call_settings(slack, pagerduty))
    second = pg.service(on_call_settings(slack, pagerduty))
    a, b = am_alert(instance="a:1"), am_alert(instance="b:1")
    await _apply(first, a, pg.clock.now())
    await _apply(first, {**a, "status": "resolved", "endsAt": "2026-03-02T10:01:00Z"}, advance(pg.clock, minutes=1))
    assert (await _row(pg)).status == "resolved"
    now = advance(pg.clock, minutes=1)
    again = {**a, "startsAt": "2026-03-02T10:02:00Z"}
    async with RowLock(pg, 1) as lock:
        one = await lock.queue(_apply(first, again, now), waiting=1)
        two = await lock.queue(_apply(second, b, now), waiting=2)
    assert [(await one).incident_id, (await two).incident_id] == [1, 1]
    row = await _row(pg)
    assert_valid(row)
    assert (row.status, row.reopen_count) == ("triggered", 1)
    assert (await _kinds(pg)).count("reopened") == 1
    async with pg.engine.connect() as conn:
        members = (await conn.execute(sa.text("SELECT count(*) FROM alerting_alerts WHERE incident_id = 1"))).scalar()
        total = (await conn.execute(sa.text("SELECT count(*) FROM alerting_incidents"))).scalar()
    assert (members, total) == (2, 1)


async def test_an_older_firing_racing_a_newer_one_is_stale_and_changes_nothing(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """Both read the alert as it was (started 10:00); the newer (10:20) commits first; the older (10:10) loses."""
    svc = pg.service(on_call_settings(slack, pagerduty))
    await _apply(svc, am_alert(), pg.clock.now())
    now = advance(pg.clock, minutes=30)
    newer, older = am_alert(starts_at=T0 + timedelta(minutes=20)), am_alert(starts_at=T0 + timedelta(minutes=10))
    locker = await pg.engine.connect()
    await locker.begin()
    await locker.execute(sa.text("SELECT id FROM alerting_alerts WHERE incident_id = 1 FOR NO KEY UPDATE"))
    lock = RowLock(pg, 1)  # only for its queueing helper
    first = await lock.queue(_apply(svc, newer, now), waiting=1)
    second = await lock.queue(_apply(svc, older, now), waiting=2)
    await locker.rollback()
    await locker.close()
    assert [(await first).result, (await second).result] == ["applied", "stale"]
    async with pg.engine.connect() as conn:
        starts, fired = (await conn.execute(sa.text("SELECT starts_at, fired_count FROM alerting_alerts"))).one()
    assert (starts.astimezone(UTC), fired) == (T0 + timedelta(minutes=20), 2)
