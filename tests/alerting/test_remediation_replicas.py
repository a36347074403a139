"""Remediation with several replicas on one store: leases, resumed runs, limits per target, free dry-runs."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting.tables import audit, outbox, remediations

from ._fakes import FakePagerDuty, FakePlatformAdmin, FakeReceiver
from ._helpers import T0, Harness, advance, am_alert, am_payload, api_client, eventually, post_alerts
from .test_remediation import decisions, failover, http_call, settings_with


@pytest.fixture
def admin() -> Iterator[FakePlatformAdmin]:
    a = FakePlatformAdmin()
    yield a
    a.close()


async def rows(h: Harness) -> list[Any]:
    async with h.engine.connect() as conn:
        return list((await conn.execute(sa.select(remediations).order_by(remediations.c.id))).all())


async def page_count(h: Harness) -> int:
    async with h.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).where(outbox.c.event == "page"))).scalar_one())


def keys(receiver: FakeReceiver) -> list[str | None]:
    return [r.headers.get("Idempotency-Key") for r in receiver.requests]


async def test_a_replica_starting_while_another_runs_the_action_leaves_it_alone(
    any_store: Harness, pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    receiver.hang(times=1)  # the first call takes the action's whole timeout
    playbook = http_call(receiver, cooldown="1m", max_attempts=1)
    playbook["action"]["timeout_seconds"] = 2
    settings = settings_with(pagerduty, playbook)
    a = harness.service(settings)
    async with api_client(a) as c:
        await post_alerts(c, am_payload(am_alert()))
    await a.inbox.drain()
    running = asyncio.create_task(a.remediation.run_due())
    await eventually("the action started", lambda: receiver.requests)
    b = harness.service(settings)
    await b.remediation.recover()  # what b.start() does
    advance(harness.clock, seconds=90)  # past the cool-down, well inside a's lease
    await b.remediation.run_due()
    assert len(receiver.requests) == 1  # b did not run it a second time
    await running  # a's call times out: a failed try, the last one
    assert [d for d, _ in await decisions(harness)] == ["executed", "failed", "gave_up"]
    assert keys(receiver) == ["fanzwatch-remediation-1-1"]


async def test_a_replica_that_lost_its_lease_only_records_its_late_outcome(
    any_store: Harness, pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    harness = any_store
    receiver.hang(times=1)
    playbook = http_call(receiver, cooldown="1m")
    # Long enough that a's call cannot time out before b takes over, however loaded the machine:
    # a's call ends when the receiver lets the hung request go (below).
    playbook["action"]["timeout_seconds"] = 120
    settings = settings_with(pagerduty, playbook)
    a = harness.service(settings)  # the default lease: 2 minutes
    async with api_client(a) as c:
        await post_alerts(c, am_payload(am_alert()))
    await a.inbox.drain()
    running = asyncio.create_task(a.remediation.run_due())
    await eventually("the action started", lambda: receiver.requests)
    advance(harness.clock, minutes=3)  # a did not renew for a whole lease: as if it had died
    b = harness.service(settings)
    await b.remediation.run_due()
    assert keys(receiver) == ["fanzwatch-remediation-1-1"] * 2  # resumed with the same key
    receiver.release()  # a's hung call ends, unanswered
    await running
    assert [(d, r) for d, r in await decisions(harness)] == [
        ("executed", f"POST {receiver.base_url}/cache/fanz-1/flush"),
        ("resumed", f"POST {receiver.base_url}/cache/fanz-1/flush: again, the replica running it stopped "
         "before recording its outcome"),
        ("succeeded", f"POST {receiver.base_url}/cache/fanz-1/flush: HTTP 200; verifying the alert resolves by "
         "2026-03-02T10:08:00+00:00"),
        ("failed", f"POST {receiver.base_url}/cache/fanz-1/flush: RemoteProtocolError (recorded only: the claim had "
         "expired)"),
    ]  # fmt: skip
    (row,) = await rows(harness)
    assert (row.status, row.runs, row.failed_tries, row.claimed_by) == ("verifying", 1, 0, None)


async def test_a_stop_during_an_action_gives_the_claim_back_and_the_next_start_resumes_it_at_once(
    harness: Harness, pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    receiver.hang(times=1)
    playbook = http_call(receiver, cooldown="10m")
    playbook["action"]["timeout_seconds"] = 30
    settings = settings_with(pagerduty, playbook)
    a = harness.service(settings)
    await a.start()
    async with api_client(a) as c:
        await post_alerts(c, am_payload(am_alert()))
        a.payload_stored()
    await eventually("the action started", lambda: receiver.requests)
    await a.stop(grace=0.2)  # cuts the action short
    (row,) = await rows(harness)
    assert (row.status, row.interrupted, row.claimed_by) == ("waiting", True, None)
    b = harness.service(settings)
    await b.tick()  # inside the 10-minute cool-down: a resumed run is not a new run
    assert keys(receiver) == ["fanzwatch-remediation-1-1"] * 2
    assert [d for d, _ in await decisions(harness)] == ["executed", "resumed", "succeeded"]
    (row,) = await rows(harness)
    assert (row.status, row.runs, row.interrupted) == ("verifying", 1, False)


async def test_a_long_action_renews_its_lease_so_no_other_replica_takes_it(
    harness: Harness, pagerduty: FakePagerDuty
) -> None:
    harness.use_real_clock()
    sleeper = {
        "name": "slow",
        "matchers": ['alertname="Slow"'],
        "action": {"kind": "shell", "argv": ["/bin/sleep", "3"], "timeout_seconds": 10},
    }
    settings = settings_with(pagerduty, sleeper, remediation={"shell_allowlist": ["/bin/sleep"], "lease": "1s"})
    a = harness.service(settings)
    b = harness.service(settings)
    async with api_client(a) as c:
        await post_alerts(c, am_payload(am_alert("Slow", severity="warning", starts_at=harness.clock.now())))
    await a.inbox.drain()
    loop = asyncio.get_running_loop()
    started = loop.time()
    running = asyncio.create_task(a.remediation.run_due())
    await eventually("the action started", lambda: decisions(harness))
    polled: list[float] = []
    while not running.done():  # b polls for three leases' worth of time
        await b.remediation.run_due()
        polled.append(loop.time() - started)
        await asyncio.sleep(0.1)
    await running
    # b polled after a 1 s lease would have run out twice over (a count of rounds would depend on the load)
    assert len(polled) >= 2 and polled[-1] >= 2.0, polled
    assert [d for d, _ in await decisions(harness)] == ["executed", "succeeded"]


async def test_dry_run_is_free_it_never_counts_never_pages_and_says_what_would_have_been_limited(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    playbook = failover(admin, cooldown="5m", max_runs_per_hour=3)
    dry = harness.service(settings_with(pagerduty, playbook, remediation={"dry_run": True}))
    async with api_client(dry) as c:
        for k in range(40):  # fires every 36 s, resolves 18 s later: the real-mode test's flapping
            started = T0 + k * timedelta(seconds=36)
            harness.clock.advance(started - harness.clock.now())
            await post_alerts(c, am_payload(am_alert(starts_at=started)))
            await dry.tick()
            advance(harness.clock, seconds=18)
            await post_alerts(
                c, am_payload(am_alert(starts_at=started, status="resolved", ends_at=harness.clock.now()))
            )
            await dry.tick()
    assert admin.requests == []
    log = await decisions(harness)
    assert Counter(d for d, _ in log) == {"dry_run": 3, "dry_run_limited": 25, "not_needed": 24}
    assert [r for d, r in log if d == "dry_run_limited" and "rate_limited" in r] == [
        "would have been limited: rate_limited: 3 runs in the last hour (max 3); a human would have been paged"
    ]
    assert log[1][1].startswith("would have been limited: cooldown: last run or dry-run 2026-03-02T10:00:00+00:00")
    assert await page_count(harness) == 0
    assert (
        harness.metric(
            "fanz_alerting_remediations_run_total", platform="fanz-1", playbook="payment-failover", result="dry_run"
        )
        == 3
    )
    # The same playbook for real, a minute later: the dry-runs held nothing back.
    real = harness.service(settings_with(pagerduty, playbook))
    advance(harness.clock, minutes=1)
    async with api_client(real) as c:
        await post_alerts(c, am_payload(am_alert(starts_at=harness.clock.now(), instance="b")))
        await real.tick()
    assert admin.active == "backup"
    assert (await decisions(harness))[-2][0] == "executed"


@pytest.mark.parametrize(
    ("targets_platform", "second"),
    [(True, "executed"), (False, "refused")],
    ids=["action-uses-platform", "same-action-for-every-platform"],
)
async def test_the_cooldown_holds_per_platform_when_the_action_targets_one(
    harness: Harness, pagerduty: FakePagerDuty, receiver: FakeReceiver, targets_platform: bool, second: str
) -> None:
    playbook = http_call(receiver, cooldown="5m")
    if not targets_platform:
        playbook["action"]["url"] = receiver.base_url + "/cache/flush"
    svc = harness.service(settings_with(pagerduty, playbook))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert(platform="fanz-1")))
        await svc.tick()
        advance(harness.clock, seconds=10)
        await post_alerts(c, am_payload(am_alert(platform="fanz-2", starts_at=harness.clock.now())))
        await svc.tick()
        advance(harness.clock, seconds=10)  # fanz-1 again (another alert): inside fanz-1's cool-down
        await post_alerts(c, am_payload(am_alert(platform="fanz-1", instance="b", starts_at=harness.clock.now())))
        await svc.tick()
    async with harness.engine.connect() as conn:
        runs = (
            await conn.execute(
                sa.select(remediations.c.platform, audit.c.decision)
                .join(remediations, audit.c.remediation_id == remediations.c.id)
                .where(audit.c.decision.in_(["executed", "refused"]))
                .order_by(audit.c.id)
            )
        ).all()
    assert [tuple(r) for r in runs] == [("fanz-1", "executed"), ("fanz-2", second), ("fanz-1", "refused")]
