"""The hold-down's transitions racing a human: each a compare-and-set that sets what the row says.

Made deterministic like ``test_incident_races``: the test holds the incident's row lock,
queues the competing transactions in a chosen order, then lets go.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fanzwatch.alerting import AlertingService

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import Harness, advance, am_alert, am_payload, api_client, make_harness, on_call_settings, post_alerts
from .test_incident_races import RowLock, _row, assert_valid

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Harness]:
    async for h in make_harness(pg_url):
        yield h


async def _resolving(h: Harness, svc: AlertingService) -> None:
    """Incident 1 opened by a firing alert whose resolve started the hold-down."""
    started = h.clock.now()
    async with api_client(svc) as c:
        assert (await post_alerts(c, am_payload(am_alert(starts_at=started)))).status_code == 202
        await svc.tick()
        ended = advance(h.clock, minutes=1)
        resolved = am_alert(status="resolved", starts_at=started, ends_at=ended)
        assert (await post_alerts(c, am_payload(resolved))).status_code == 202
        await svc.tick()
    assert (await _row(h)).status == "resolving"


async def test_acknowledge_then_firing_again_during_the_hold_down_leaves_it_acknowledged(
    pg: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    """Before: the firing alert's transaction chose ``triggered`` from its read of the row
    (not yet acknowledged) and wrote it over the acknowledgement committed meanwhile —
    ``triggered`` with ``acknowledged_at`` set, no escalation deadline, and a second
    acknowledge answered "already acknowledged": an incident nobody could act on."""
    svc = pg.service(on_call_settings(slack, pagerduty, hold_down="2m"))
    await _resolving(pg, svc)
    now = advance(pg.clock, seconds=10)
    async with api_client(svc) as c:
        assert (await post_alerts(c, am_payload(am_alert(starts_at=now)))).status_code == 202
    async with RowLock(pg, 1) as lock:
        acking = await lock.queue(svc.operations.acknowledge(1, by="ana", now=now), waiting=1)
        firing = await lock.queue(svc.inbox.drain(), waiting=2)
    _, changed = await acking
    assert await firing == 1
    row = await _row(pg)
    assert_valid(row)
    assert changed
    assert row.status != "triggered" or row.acknowledged_at is None  # triggered means nobody has it
    assert (row.status, row.acknowledged_by, row.resolve_after) == ("acknowledged", "ana", None)
