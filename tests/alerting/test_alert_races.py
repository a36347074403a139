"""An alert's own row under concurrency: a late resolve of an earlier firing never ends a newer one.

Two replicas drain their inboxes at once: one applies Alertmanager's (late, HA-copied)
resolve of an alert's firing that started at ``s1``, the other the same alert firing
again from ``s2``. Made deterministic on the real PostgreSQL: the test holds the alert
row's lock, queues the firing and then the resolve on it, then lets go.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting import AlertingService
from fanzwatch.alerting.payload import AlertmanagerPayload
from fanzwatch.alerting.tables import alerts, incidents

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    T0,
    Harness,
    am_alert,
    am_payload,
    api_client,
    eventually,
    make_harness,
    on_call_settings,
    post_alerts,
)
from .test_incident_races import _waiting_on_locks

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Harness]:
    async for h in make_harness(pg_url):
        yield h


async def _apply(h: Harness, svc: AlertingService, alert: dict[str, Any]) -> str:
    payload = AlertmanagerPayload.model_validate(am_payload(alert))
    parsed = payload.alerts[0]
    async with h.engine.begin() as conn:
        applied = await svc.manager.apply(conn, parsed, svc.manager.group_key(payload, parsed), h.clock.now())
    return applied.result


async def test_a_late_resolve_of_an_earlier_firing_does_not_end_the_new_firing(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """Before: the resolve's guarded UPDATE (``WHERE status = 'firing'``) waited for the new
    firing's row, re-checked it, found it firing — the new firing's — and resolved it; with
    no alert left firing the incident resolved while its alert fired (and Alertmanager's
    repeats of the firing are duplicates: nobody would be paged again)."""
    s1, s2 = T0, T0 + timedelta(minutes=3)
    first = pg.service(on_call_settings(slack, pagerduty))
    second = pg.service(on_call_settings(slack, pagerduty))
    async with api_client(first) as c:
        assert (await post_alerts(c, am_payload(am_alert(starts_at=s1)))).status_code == 202
    await first.inbox.drain()
    pg.clock.advance(timedelta(minutes=4))
    async with pg.engine.connect() as lock:
        await lock.begin()
        await lock.execute(sa.text("SELECT id FROM alerting_alerts WHERE id = 1 FOR UPDATE"))
        firing = asyncio.ensure_future(_apply(pg, first, am_alert(starts_at=s2)))
        await eventually("the firing waits for the alert row", lambda: _blocked(pg, 1))
        late = am_alert(status="resolved", starts_at=s1, ends_at=s1 + timedelta(minutes=2))
        resolving = asyncio.ensure_future(_apply(pg, second, late))
        await eventually("the late resolve waits for the alert row", lambda: _blocked(pg, 2))
        await lock.rollback()
    assert await firing == "applied"
    await resolving
    async with pg.engine.connect() as conn:
        alert = (await conn.execute(sa.select(alerts.c.status, alerts.c.starts_at))).one()
        incident = (await conn.execute(sa.select(incidents.c.status))).one()
    assert (alert.status, alert.starts_at) == ("firing", s2)
    assert incident.status == "triggered"


async def _blocked(h: Harness, n: int) -> bool:
    return await _waiting_on_locks(h) >= n
