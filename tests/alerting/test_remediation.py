"""Remediation: actions against real local services, every safety rule, verification, paging."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting.tables import audit, outbox, remediations
from fanzwatch.core.errors import ConfigError
from fanzwatch.settings.alerting import AlertingSettings

from ._fakes import FakePagerDuty, FakePlatformAdmin, FakeReceiver, ProcessSupervisor
from ._helpers import T0, Harness, advance, am_alert, am_payload, api_client, base_settings, post_alerts


@pytest.fixture
def admin() -> Iterator[FakePlatformAdmin]:
    a = FakePlatformAdmin()
    yield a
    a.close()


def settings_with(pagerduty: FakePagerDuty, *playbooks: dict[str, Any], **overrides: Any) -> AlertingSettings:
    values: dict[str, Any] = {
        "channels": [{"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"}],
        "users": [{"name": "ana", "notify": ["pd"]}],
        "schedules": [{"name": "primary", "users": ["ana"]}],
        "remediation": {"playbooks": list(playbooks), **overrides.pop("remediation", {})},
    }
    return base_settings(**values, **overrides)


def failover(admin: FakePlatformAdmin, **extra: Any) -> dict[str, Any]:
    return {
        "name": "payment-failover",
        "matchers": ['alertname="PaymentFailureRate"'],
        "action": {"kind": "payment_failover", "platform_url": admin.base_url},
        "label_rules": {"platform": "fanz-[0-9]{1,2}"},
        "verify_within": "5m",
        **extra,
    }


def http_call(receiver: FakeReceiver, **extra: Any) -> dict[str, Any]:
    return {
        "name": "flush-cache",
        "matchers": ['alertname="PaymentFailureRate"'],
        "action": {
            "kind": "http",
            "url": receiver.base_url + "/cache/{platform}/flush",
            "body": {"why": "{alertname}"},
        },
        "label_rules": {"platform": "fanz-[0-9]{1,2}", "alertname": "[A-Za-z]+"},
        **extra,
    }


async def decisions(h: Harness) -> list[tuple[str, str]]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(sa.select(audit.c.decision, audit.c.reason).order_by(audit.c.id))
        return [(r.decision, r.reason) for r in rows]


async def state(h: Harness) -> tuple[str, int]:
    async with h.engine.connect() as conn:
        row = (await conn.execute(sa.select(remediations.c.status, remediations.c.failed_tries))).one()
    return row.status, row.failed_tries


async def pages(h: Harness) -> list[dict[str, Any]]:
    async with h.engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.payload).where(outbox.c.event == "page").order_by(outbox.c.id))
        return [r.payload for r in rows]


async def test_failover_to_the_backup_processor_then_verified_when_the_alert_resolves(
    any_store: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    svc = harness.service(settings_with(pagerduty, failover(admin)))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert(service="payments")))
        await svc.tick()
        assert admin.active == "backup"
        assert await state(harness) == ("verifying", 0)
        advance(harness.clock, minutes=2)
        await post_alerts(c, am_payload(am_alert(service="payments", status="resolved", ends_at=harness.clock.now())))
        await svc.tick()
        inc = (await c.get("/api/v1/incidents/1")).json()
    assert [(r.method, r.path, r.body) for r in admin.requests] == [
        ("PUT", "/admin/payment-processor", {"active": "backup"}),
        ("GET", "/admin/payment-processor", None),
    ]
    url = f"{admin.base_url}/admin/payment-processor"
    assert await decisions(harness) == [
        ("executed", f"switch payments to the backup processor: PUT {url}"),
        (
            "succeeded",
            "payments now go through the backup processor; verifying the alert resolves by 2026-03-02T10:05:00+00:00",
        ),
        ("verified", "the alert resolved after the action"),
    ]
    assert await state(harness) == ("done", 0)
    assert inc["status"] == "resolved"
    assert [e["message"] for e in inc["timeline"] if e["kind"] == "remediation"] == [
        "Remediation payment-failover (payment_failover): executed: "
        f"switch payments to the backup processor: PUT {url}",
        "Remediation payment-failover (payment_failover): succeeded: payments now go through the backup processor; "
        "verifying the alert resolves by 2026-03-02T10:05:00+00:00",
        "Remediation payment-failover (-): verified: the alert resolved after the action",
    ]
    assert (
        harness.metric(
            "fanz_alerting_remediations_run_total", platform="fanz-1", playbook="payment-failover", result="succeeded"
        )
        == 1
    )
    assert (
        harness.metric(
            "fanz_alerting_remediation_verifications_total",
            platform="fanz-1",
            playbook="payment-failover",
            result="verified",
        )
        == 1
    )


async def test_an_action_that_succeeds_while_the_alert_keeps_firing_is_retried_then_pages(
    any_store: Harness, pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    harness = any_store  # on SQLite and on PostgreSQL
    playbook = http_call(receiver, cooldown="2m", verify_within="5m", max_attempts=3)
    svc = harness.service(settings_with(pagerduty, playbook))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        for _ in range(12):  # an hour of ticks every 5 minutes; the alert never resolves
            advance(harness.clock, minutes=5)
            await svc.tick()
            await svc.tick()
    assert [(r.method, r.path, r.body) for r in receiver.requests] == [
        ("POST", "/cache/fanz-1/flush", {"why": "PaymentFailureRate"})
    ] * 3
    assert [d for d, _ in await decisions(harness)] == [
        "executed", "succeeded", "verification_failed",
        "executed", "succeeded", "verification_failed",
        "executed", "succeeded", "verification_failed",
        "gave_up",
    ]  # fmt: skip
    assert (await decisions(harness))[-1] == (
        "gave_up",
        "3 failed tries (max 3), last: the alert kept firing after the action; paging a human",
    )
    assert await state(harness) == ("gave_up", 3)
    (page,) = await pages(harness)
    assert page["reason"] == (
        "auto-remediation flush-cache stopped: 3 failed tries (max 3), last: the alert kept firing after the action"
    )
    assert page["recipient"] == "ana"
    assert [e for e, _ in pagerduty.events()] == ["trigger", "trigger"]  # the incident, then the page
    assert pagerduty.accepted[-1].body["payload"]["summary"] == (
        "[P0] Incident #1 needs a human: PaymentFailureRate on fanz-1"
    )
    assert harness.metric("fanz_alerting_remediations_gave_up_total", platform="fanz-1", playbook="flush-cache") == 1


@pytest.mark.slow
async def test_an_alert_flapping_100_times_an_hour_hits_cooldown_then_the_hourly_limit_then_pages(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    playbook = failover(admin, cooldown="5m", max_runs_per_hour=3, verify_within="1m")
    svc = harness.service(settings_with(pagerduty, playbook))
    async with api_client(svc) as c:
        for k in range(100):  # fires every 36 s, resolves 18 s later
            started = T0 + k * timedelta(seconds=36)
            harness.clock.advance(started - harness.clock.now())  # the frozen clock follows the flapping alert
            await post_alerts(c, am_payload(am_alert(starts_at=started)))
            await svc.tick()
            advance(harness.clock, seconds=18)
            await post_alerts(
                c, am_payload(am_alert(starts_at=started, status="resolved", ends_at=harness.clock.now()))
            )
            await svc.tick()
        listing = (await c.get("/api/v1/incidents")).json()
    puts = [r for r in admin.requests if r.method == "PUT"]
    assert len(puts) == 3  # at 0 s, 324 s and 648 s: each the first firing after a 5-minute cool-down
    counts = Counter(d for d, _ in await decisions(harness))
    assert counts == {
        "executed": 3,
        "succeeded": 3,
        "verified": 3,
        "refused": 25,  # 24 inside a cool-down, then the hourly limit once
        "not_needed": 24,  # the refused ones: the alert resolved before the cool-down ended
        "gave_up": 1,
    }
    assert [r for d, r in await decisions(harness) if r.startswith("rate_limited")] == [
        "rate_limited: 3 runs in the last hour (max 3)"
    ]
    assert len(await pages(harness)) == 1  # a human is paged once, not 97 times
    assert listing["total"] == 1  # the flapping alert stays one (reopened) incident
    assert (
        harness.metric(
            "fanz_alerting_remediations_refused_total",
            platform="fanz-1",
            playbook="payment-failover",
            reason="cooldown",
        )
        == 24
    )


async def test_the_kill_switch_stops_every_playbook_and_survives_a_restart(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    svc = harness.service(settings_with(pagerduty, failover(admin)))
    async with api_client(svc) as c:
        on = await c.put("/api/v1/remediation/kill-switch", json={"engaged": True, "by": "ana"})
        assert on.json() == {"engaged": True, "updated_at": "2026-03-02T10:00:00Z", "updated_by": "ana"}
    restarted = harness.service(settings_with(pagerduty, failover(admin)))
    async with api_client(restarted) as c:
        assert (await c.get("/api/v1/remediation/kill-switch")).json()["engaged"] is True
        await post_alerts(c, am_payload(am_alert()))
        await restarted.tick()
        assert admin.requests == []
        await c.put("/api/v1/remediation/kill-switch", json={"engaged": False, "by": "ana"})
        await post_alerts(c, am_payload(am_alert("PaymentFailureRate", platform="fanz-2")))
        await restarted.tick()
    assert admin.active == "backup"
    assert (await decisions(harness))[0] == ("refused", "kill_switch: the remediation kill switch is engaged")


async def test_dry_run_records_what_would_run_and_does_nothing(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    svc = harness.service(settings_with(pagerduty, failover(admin), remediation={"dry_run": True}))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
    assert admin.requests == []
    url = f"{admin.base_url}/admin/payment-processor"
    assert await decisions(harness) == [
        ("dry_run", f"would have run: switch payments to the backup processor: PUT {url}")
    ]
    assert await state(harness) == ("done", 0)


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        (
            {"platform": "fanz-1/../../admin"},
            "label_rejected: label 'platform' value 'fanz-1/../../admin' does not match",
        ),
        ({"platform": "fanz-1; rm -rf /"}, "label_rejected: label 'platform' value 'fanz-1; rm -rf /' does not match"),
        ({"platform": ""}, "label_rejected: label 'platform' value '' does not match"),
    ],
)
async def test_label_values_outside_the_allowlist_are_refused(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin, labels: dict[str, str], reason: str
) -> None:
    svc = harness.service(settings_with(pagerduty, failover(admin)))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert(**labels)))
        await svc.tick()
    assert admin.requests == []
    ((decision, text),) = await decisions(harness)
    assert decision == "refused" and text.startswith(reason)
    assert await state(harness) == ("refused", 0)


async def test_a_failing_action_is_retried_after_the_cooldown_then_gives_up(
    harness: Harness, pagerduty: FakePagerDuty, admin: FakePlatformAdmin
) -> None:
    admin.stuck = True  # answers 200 but never switches: the read-back catches it
    svc = harness.service(settings_with(pagerduty, failover(admin, cooldown="1m", max_attempts=2)))
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert()))
        await svc.tick()
        advance(harness.clock, seconds=30)
        await svc.tick()  # still in the cool-down
        advance(harness.clock, seconds=31)
        await svc.tick()
    assert [d for d, _ in await decisions(harness)] == [
        "executed", "failed", "refused", "executed", "failed", "gave_up",
    ]  # fmt: skip
    assert (await decisions(harness))[1] == (
        "failed",
        "the platform reports 'primary' active after switching to backup",
    )
    assert await state(harness) == ("gave_up", 2)
    assert len(await pages(harness)) == 1


async def test_restarting_a_managed_process_through_the_process_control_protocol(
    harness: Harness, pagerduty: FakePagerDuty
) -> None:
    supervisor = ProcessSupervisor("fanz-worker", token="ctl-token")
    try:
        old_pid = supervisor.child.pid
        playbook = {
            "name": "restart-worker",
            "matchers": ['alertname="WorkerStuck"'],
            "action": {"kind": "restart_process", "process": "fanz-worker"},
        }
        settings = settings_with(
            pagerduty,
            playbook,
            remediation={"process_control_url": supervisor.base_url, "process_control_token": "ctl-token"},
        )
        svc = harness.service(settings)
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert("WorkerStuck", severity="warning")))
            await svc.tick()
        assert supervisor.restarts == 1
        assert supervisor.child.pid != old_pid and supervisor.child.poll() is None
        with pytest.raises(ProcessLookupError):
            os.kill(old_pid, 0)
        assert (await decisions(harness))[1][1].startswith(
            f"restarted fanz-worker, new pid {supervisor.child.pid}; verifying"
        )
    finally:
        supervisor.close()


async def test_a_shell_command_from_the_allowlist_runs_without_a_shell(
    harness: Harness, pagerduty: FakePagerDuty, tmp_path: Path
) -> None:
    touch = "/usr/bin/touch"
    playbook = {
        "name": "mark",
        "matchers": ['alertname="DiskFilling"'],
        "action": {"kind": "shell", "argv": [touch, str(tmp_path / "{platform}.flag")]},
        "label_rules": {"platform": "fanz-[0-9]+"},
    }
    sleeper = {
        "name": "slow",
        "matchers": ['alertname="Slow"'],
        "action": {"kind": "shell", "argv": ["/bin/sleep", "30"], "timeout_seconds": 0.3},
        "max_attempts": 1,
    }
    svc = harness.service(
        settings_with(pagerduty, playbook, sleeper, remediation={"shell_allowlist": [touch, "/bin/sleep"]})
    )
    async with api_client(svc) as c:
        await post_alerts(c, am_payload(am_alert("DiskFilling", severity="warning")))
        await post_alerts(c, am_payload(am_alert("Slow", severity="warning")))
        await svc.tick()
    assert (tmp_path / "fanz-1.flag").is_file()
    reasons = dict((d, r) for d, r in await decisions(harness) if d in ("failed", "gave_up"))
    assert reasons["failed"] == "/bin/sleep timed out after 0.3 s and was killed"


@pytest.mark.parametrize(
    ("remediation", "message"),
    [
        (
            {
                "playbooks": [
                    {"name": "x", "matchers": ['a="b"'], "action": {"kind": "shell", "argv": ["/bin/rm", "-rf"]}}
                ]
            },
            "playbook x: /bin/rm is not in shell_allowlist",
        ),
        (
            {
                "playbooks": [
                    {"name": "x", "matchers": ['a="b"'], "action": {"kind": "http", "url": "http://h/{instance}"}}
                ]
            },
            "playbook x: placeholders ['instance'] need a label_rules entry",
        ),
        ({"shell_allowlist": ["rm"]}, "shell_allowlist entries must be absolute paths"),
        (
            {"playbooks": [{"name": "x", "matchers": ["alertname=X"], "action": {"kind": "http", "url": "http://h"}}]},
            "'alertname=X' is not a matcher",
        ),
    ],
)
def test_unsafe_or_broken_playbooks_are_refused_at_load(remediation: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        base_settings(remediation=remediation)


async def test_a_restart_playbook_without_process_control_is_a_config_error(harness: Harness) -> None:
    playbook = {"name": "r", "matchers": ['alertname="X"'], "action": {"kind": "restart_process", "process": "api"}}
    with pytest.raises(ConfigError, match=r"set remediation\.process_control_url"):
        harness.service(base_settings(remediation={"playbooks": [playbook]}))
