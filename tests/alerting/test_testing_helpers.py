"""``fanzwatch.alerting.testing``: the in-memory notifier, used the way a user's own test would."""

from __future__ import annotations

import pytest

from fanzwatch.alerting import AlertingService
from fanzwatch.alerting.testing import DeliveryResult, InMemoryNotifier, memory_channel
from fanzwatch.core.errors import ConfigError

from ._helpers import Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts


def settings_with(*names: str) -> object:
    return base_settings(
        channels=[memory_channel(n) for n in names],
        users=[{"name": "ana", "notify": list(names)}],
        schedules=[{"name": "primary", "users": ["ana"]}],
    )


async def test_the_in_memory_notifier_sees_what_would_be_sent_in_order(harness: Harness) -> None:
    memory = InMemoryNotifier("ops")
    svc = harness.service(settings_with("ops"), notifiers=[memory])
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        await c.post("/api/v1/incidents/1/ack", json={"by": "ana"})
        await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        await svc.tick()
    assert memory.events() == [(1, "trigger", "ana"), (1, "acknowledge", "ana"), (1, "resolve", "ana")]
    assert memory.sent[0].headline == "[P0] Incident #1 triggered: PaymentFailureRate on fanz-1"


async def test_scripted_failures_go_through_the_real_retries_and_superseding(harness: Harness) -> None:
    memory = InMemoryNotifier("ops")
    memory.fail_next(DeliveryResult.retry("HTTP 503"), times=2)
    svc = harness.service(settings_with("ops"), notifiers=[memory])
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(harness.clock, seconds=1)
        await svc.tick()  # second failure; the trigger waits for its retry
        await c.post("/api/v1/incidents/1/resolve", json={"by": "ana"})
        advance(harness.clock, minutes=5)
        await svc.tick()
    assert len(memory.attempts) == 2
    assert memory.events() == []  # the trigger was superseded by the resolve, which had nothing to follow


async def test_wait_for_with_the_workers_running(harness: Harness) -> None:
    harness.use_real_clock()
    memory = InMemoryNotifier("ops")
    svc = harness.service(settings_with("ops"), notifiers=[memory])
    await svc.start()
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        (sent,) = await memory.wait_for(1)
    assert (sent.event.value, sent.incident_id) == ("trigger", 1)


def test_a_stand_in_needs_a_configured_channel(harness: Harness) -> None:
    with pytest.raises(ConfigError, match=r"notifier 'ops' has no channel of that name in alerting\.channels"):
        AlertingService(
            base_settings(),
            harness.engine,
            harness.http,
            harness.registry,
            harness.clock,
            notifiers=[InMemoryNotifier("ops")],
        )
