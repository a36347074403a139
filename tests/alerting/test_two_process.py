"""Replicas in separate OS processes on one PostgreSQL database (``fw_13c_*``)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from fanzwatch.store import create_sync_engine, upgrade

from ._fakes import FakePagerDuty, FakeReceiver, FakeSlack, wait_until
from ._helpers import T0, TOKEN, am_alert, am_payload
from .harness import checks
from .harness.processes import fresh_database, replicas, waiting_on_locks
from .test_remediation import http_call

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[tuple[str, str]]:
    """(name, SQLAlchemy URL) of a migrated database of this engineer's own."""
    with fresh_database() as name:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        upgrade(url)
        yield name, url


def settings_dict(pagerduty: FakePagerDuty, *playbooks: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """What ``test_remediation.settings_with`` builds, as the JSON a replica process reads."""
    return {
        "webhook_token": TOKEN,
        "external_url": "http://fanzwatch.test",
        "delivery": {"backoff_base": "50ms", "backoff_max": "1s", "poll_interval": "50ms", "max_attempts": 5},
        "tick_interval": "1h",
        "channels": [{"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"}],
        "users": [{"name": "ana", "notify": ["pd"]}],
        "schedules": [{"name": "primary", "users": ["ana"]}],
        "remediation": {"playbooks": list(playbooks)},
        **overrides,
    }


def audit_log(url: str) -> list[tuple[str, str, str]]:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT r.labels, a.decision, a.reason FROM alerting_remediation_audit a "
                    "JOIN alerting_remediations r ON r.id = a.remediation_id ORDER BY a.id"
                )
            ).all()
    finally:
        engine.dispose()
    return [(r.labels.get("instance", "-"), r.decision, r.reason) for r in rows]


def test_two_replicas_in_two_processes_past_one_cooldown_run_the_action_once(
    database: tuple[str, str], pagerduty: FakePagerDuty, receiver: FakeReceiver
) -> None:
    """Two alerts for one playbook and platform reach two replicas at once: one run, one cool-down.

    To make the race certain rather than likely, the test holds an exclusive lock on
    ``alerting_flags`` (the kill switch, read by the safety rules just before the limits), so
    each replica stops there after claiming its own remediation; it then lets both go at once.
    Replica a's clock is a second ahead, so b does not see a's remediation as due yet: each
    replica claims a different one, as two replicas with slightly different clocks do.
    """
    name, url = database
    settings = settings_dict(pagerduty, http_call(receiver, cooldown="5m"))
    ahead = (T0 + timedelta(seconds=1)).isoformat()
    specs = ({"instance": "a", "frozen": ahead}, {"instance": "b", "frozen": T0.isoformat()})
    with (
        replicas(url, settings, *specs) as (a, b),
        psycopg.connect(f"dbname={name} user=postgres host=127.0.0.1") as gate,
    ):
        gate.execute("LOCK TABLE alerting_flags IN ACCESS EXCLUSIVE MODE")
        a.call("ingest", payload=am_payload(am_alert(instance="a", starts_at=T0 + timedelta(seconds=1))))
        a.send("run_due")
        wait_until("replica a to wait at the safety rules", lambda: waiting_on_locks(name) == 1)
        b.call("ingest", payload=am_payload(am_alert(instance="b")))
        b.send("run_due")
        wait_until("replica b to wait too", lambda: waiting_on_locks(name) == 2)
        gate.commit()  # both go at once
        assert a.answer()["done"] == 1 and b.answer()["done"] == 1
    assert [r.path for r in receiver.requests] == ["/cache/fanz-1/flush"]
    decisions = sorted((d, reason.split(":")[0]) for _, d, reason in audit_log(url))
    assert decisions == [("executed", "POST http"), ("refused", "cooldown"), ("succeeded", "POST http")]


def post_webhooks(targets: list[tuple[str, dict[str, Any]]]) -> None:
    """POST each (replica URL, payload) at the same time, as Alertmanager's peers do; all must be 202."""

    def post(target: tuple[str, dict[str, Any]]) -> int:
        url, payload = target
        response = httpx.post(
            url + "/api/v1/alerts/webhook", json=payload, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        assert list(pool.map(post, targets)) == [202] * len(targets)


def running_claims(url: str, owner: str) -> int:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT count(*) FROM alerting_remediations WHERE status = 'running' AND claimed_by = :o"),
                    {"o": owner},
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_serving_replicas_with_a_kill_in_the_middle_keep_every_guarantee(
    database: tuple[str, str], pagerduty: FakePagerDuty, slack: FakeSlack, receiver: FakeReceiver
) -> None:
    """Two replicas serving webhooks on one PostgreSQL store; one is killed -9 mid-delivery and mid-action.

    Replica a alone gets the first alerts: two of its Slack deliveries and one remediation
    action hang. Then b starts; both get the same alerts again (an HA Alertmanager pair) and new
    ones concurrently; a is killed while it holds those claims, restarted as a2, and every alert
    resolves through both. Afterwards every incident walked a valid path, every channel got every
    incident's trigger and resolve exactly once, and every remediation ran once.
    """
    url = database[1]
    target = FakeReceiver()  # the remediation action's endpoint
    try:
        playbook = http_call(target, cooldown="5m")
        playbook["action"]["timeout_seconds"] = 60
        settings = settings_dict(
            pagerduty,
            playbook,
            channels=[
                {"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"},
                {"kind": "slack", "name": "ops-slack", "url": slack.url, "timeout_seconds": 2},
                {"kind": "webhook", "name": "hook", "url": receiver.url, "timeout_seconds": 2},
            ],
            users=[{"name": "ana", "notify": ["pd", "ops-slack", "hook"]}],
            tick_interval="200ms",
            delivery={
                "backoff_base": "100ms", "backoff_max": "1s", "poll_interval": "100ms", "max_attempts": 20,
                "lease": "3s",
            },
        )  # fmt: skip
        settings["remediation"]["lease"] = "3s"
        first = [am_alert(platform=f"fanz-{n}", starts_at=T0) for n in (1, 2, 3)]
        later = [am_alert(platform=f"fanz-{n}", starts_at=T0) for n in (4, 5)]
        slack.hang(times=2)  # a's first two Slack deliveries never get an answer
        target.hang(times=1)  # nor does the first remediation action
        with replicas(url, settings, {"instance": "a", "serve": True}) as (a,):
            post_webhooks([(a.base_url, am_payload(alert)) for alert in first])
            wait_until("a to run an action", lambda: running_claims(url, "a") == 1 and target.requests, 60)
            wait_until("a's Slack deliveries to hang", lambda: len(slack.requests) >= 2, 60)
            with replicas(url, settings, {"instance": "b", "serve": True}) as (b,):
                post_webhooks(
                    [(r.base_url, am_payload(alert)) for alert in first + later for r in (a, b)]
                )  # the same alerts to both replicas, at once
                a.kill()
                with replicas(url, settings, {"instance": "a2", "serve": True}) as (a2,):
                    wait_until("every remediation to be verifying", lambda: _all_verifying(url, 5), 60)
                    # main delivers in order only what is queued in order: the triggers go out first.
                    # (issue 13a: resolve while triggers are still being retried, once it lands)
                    wait_until("the triggers to go out", lambda: checks.pending_notifications(url) == 0, 60)
                    resolved = [
                        am_alert(
                            platform=f"fanz-{n}", starts_at=T0, status="resolved", ends_at=T0 + timedelta(minutes=5)
                        )
                        for n in range(1, 6)
                    ]
                    post_webhooks([(r.base_url, am_payload(alert)) for alert in resolved for r in (a2, b)])
                    wait_until("the replicas to finish", lambda: checks.quiet(url), 90)
        ids = checks.incident_ids(url)
        assert len(ids) == 5  # one incident per alert, however many replicas got it
        problems = checks.incident_problems(url) + checks.remediation_problems(url, target)
        for channel, events in (
            ("pagerduty", checks.pagerduty_events(pagerduty)),
            ("slack", checks.slack_events(slack)),
            ("webhook", checks.webhook_events(receiver)),
        ):
            problems += checks.delivered_once(channel, events, ids) + checks.in_order(channel, events)
        assert problems == []
        resumed = [d for _, d, _ in audit_log(url) if d == "resumed"]
        assert resumed == ["resumed"]  # the action a was running when it died, resumed once by another replica
    finally:
        target.close()


def _all_verifying(url: str, count: int) -> bool:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            statuses = conn.execute(sa.text("SELECT status FROM alerting_remediations")).scalars().all()
    finally:
        engine.dispose()
    return len(statuses) == count and set(statuses) == {"verifying"}
