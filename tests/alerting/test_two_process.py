"""Replicas in separate OS processes on one PostgreSQL database (``fw_13c_*``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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
from .harness.targets import StallingTarget
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


def incident_count(url: str) -> int:
    engine = create_sync_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM alerting_incidents")).scalar_one())
    finally:
        engine.dispose()


def race_at_the_timeline(database: str, *sends: tuple[Any, dict[str, Any]]) -> None:
    """Each (replica, alert) applied while ``alerting_timeline`` is locked, then all let go at once.

    The timeline is written just after a replica decides, so each waits there having decided: the
    race is certain rather than likely. Every replica must answer "applied".
    """
    with psycopg.connect(f"dbname={database} user=postgres host=127.0.0.1") as gate:
        gate.execute("LOCK TABLE alerting_timeline IN ACCESS EXCLUSIVE MODE")
        for waiting, (replica, alert) in enumerate(sends, start=1):
            replica.send("apply", payload=am_payload(alert))
            wait_until(f"replica {replica.instance} to wait", lambda n=waiting: waiting_on_locks(database) == n)
        gate.commit()  # all go at once
        assert [replica.answer()["done"] for replica, _ in sends] == [["applied"]] * len(sends)


def test_the_cause_and_its_symptom_at_once_on_two_replicas_are_one_incident(
    database: tuple[str, str], pagerduty: FakePagerDuty
) -> None:
    """The processor's alert reaches replica a while a PaymentFailureRate reaches b, at the same instant.

    To make the race certain, the test locks ``alerting_timeline`` (written just after an incident is
    opened): a, having decided, waits there; then b gets its alert and waits too (unserialised, it would
    have decided "no related incident" as well and opened a second one). Both are let go at once.
    """
    name, url = database
    settings = settings_dict(pagerduty, correlation_window="15m")
    cause = am_alert(
        "HealthCheckFailing",
        severity="warning",
        service="payments",
        platform="other",
        check="payment_processor_primary",
    )
    symptom = am_alert(
        "PaymentFailureRate", service="payments", platform="fanz-1", starts_at=T0 + timedelta(seconds=30)
    )
    specs = [{"instance": n, "frozen": T0.isoformat(), "correlate": True} for n in ("a", "b")]
    with replicas(url, settings, *specs) as (a, b):
        race_at_the_timeline(name, (a, cause), (b, symptom))
    assert incident_count(url) == 1, checks.describe(url)


def test_two_unrelated_alerts_racing_into_one_incident_on_two_replicas_are_decided_one_after_the_other(
    database: tuple[str, str], pagerduty: FakePagerDuty
) -> None:
    """An incident of one HighErrorRate on fanz-1; the processor's alert reaches a, HighResponseTime on fanz-1 b.

    Each alone fits the incident (the processor explains a 5xx; so does the platform's database, which also
    explains the latency), but not both: a processor incident takes no latency alert. The two share no
    correlation key, so only the lock on the candidate incident makes b decide after a and see a's
    alert there: two incidents. Unserialised, both joined and the incident held an undeclared symptom.
    """
    name, url = database
    settings = settings_dict(pagerduty, correlation_window="15m")
    existing = am_alert("HighErrorRate", service="fanz-platform", platform="fanz-1")
    cause = am_alert(
        "HealthCheckFailing",
        severity="warning",
        service="payments",
        platform="other",
        check="payment_processor_primary",
        starts_at=T0 + timedelta(seconds=20),
    )
    latency = am_alert(
        "HighResponseTime",
        severity="warning",
        service="fanz-platform",
        platform="fanz-1",
        starts_at=T0 + timedelta(seconds=30),
    )
    specs = [{"instance": n, "frozen": T0.isoformat(), "correlate": True} for n in ("a", "b")]
    with replicas(url, settings, *specs) as (a, b):
        a.send("apply", payload=am_payload(existing))
        assert a.answer()["done"] == ["applied"]
        race_at_the_timeline(name, (a, cause), (b, latency))
    assert incident_count(url) == 2, checks.describe(url)


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


def wait_for(what: str, probe: Callable[[], object], url: str, timeout: float) -> None:
    """``wait_until``, saying what the store was doing when it timed out."""
    try:
        wait_until(what, probe, timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {checks.describe(url)}") from None


def firing(*platforms: int) -> list[dict[str, Any]]:
    """Unrelated alerts (another service each), so each opens its own incident."""
    return [am_alert("CheckoutSlow", platform=f"fanz-{n}", service=f"checkout-{n}", starts_at=T0) for n in platforms]


def resolved(*platforms: int) -> list[dict[str, Any]]:
    end = T0 + timedelta(minutes=5)
    return [
        am_alert(
            "CheckoutSlow", platform=f"fanz-{n}", service=f"checkout-{n}", starts_at=T0, status="resolved", ends_at=end
        )
        for n in platforms
    ]


def post_json_concurrently(requests: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """POST each (URL, body) at the same time; the status codes, in order."""
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda r: httpx.post(r[0], json=r[1], timeout=10).status_code, requests))


@pytest.mark.slow
def test_two_serving_replicas_with_a_kill_in_the_middle_keep_every_guarantee(
    database: tuple[str, str], pagerduty: FakePagerDuty, slack: FakeSlack, receiver: FakeReceiver
) -> None:
    """Two replicas serving webhooks on one PostgreSQL store; one is killed -9 mid-action.

    Both get webhooks at once: some to one replica, the same to both (an HA Alertmanager pair),
    new ones too. The first two Slack deliveries and the first remediation action hang. When
    everything else is done, the replica running that action is killed (and maybe with it the
    hanging Slack deliveries) and restarted. Every alert but the one whose action was cut short
    resolves at once, through both, while the dead replica's claims still hold; the last resolves
    after its action was resumed by another replica. Afterwards every incident walked a valid path;
    PagerDuty and the webhook receiver got every incident's trigger and resolve exactly once and in
    order, Slack too or (a trigger that never got through before its incident resolved) nothing;
    every remediation ran once.
    """
    url = database[1]
    target = StallingTarget(stall=1)  # the remediation action's endpoint: its first call never ends
    try:
        playbook = http_call(target, cooldown="5m", matchers=['alertname="CheckoutSlow"'])
        playbook["action"]["timeout_seconds"] = 300
        settings = settings_dict(
            pagerduty,
            playbook,
            channels=[
                {"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"},
                {"kind": "slack", "name": "ops-slack", "url": slack.url, "timeout_seconds": 15},
                {"kind": "webhook", "name": "hook", "url": receiver.url, "timeout_seconds": 2},
            ],
            users=[{"name": "ana", "notify": ["pd", "ops-slack", "hook"]}],
            tick_interval="200ms",
            hold_down="1s",  # resolves become final (and are told) a second after the last alert resolved
            delivery={
                "backoff_base": "100ms", "backoff_max": "1s", "poll_interval": "100ms", "max_attempts": 20,
                "lease": "30s",  # longer than a delivery may take (Slack's 15 s): then retaken
            },
        )  # fmt: skip
        settings["remediation"]["lease"] = "10s"  # renewed while the action runs: retaken 10 s after its holder died
        first, later = firing(1, 2, 3), firing(4, 5)
        slack.hang(times=2)  # the first two Slack deliveries get no answer (for 15 s)
        specs = ({"instance": "a", "serve": True}, {"instance": "b", "serve": True})
        with replicas(url, settings, *specs) as pair:
            a, b = pair
            post_webhooks(  # some to one replica, the same to both (an HA Alertmanager pair), at once
                [(a.base_url, am_payload(alert)) for alert in first]
                + [(r.base_url, am_payload(alert)) for alert in first + later for r in (a, b)]
            )
            wait_for(
                "all but the hanging work to be done",
                lambda: checks.settled_but(url, deliveries=2, remediations=1),
                url,
                120,
            )
            hung = checks.running_remediation(url)
            assert hung is not None
            victim = {"a": a, "b": b}[hung[2]]
            survivor = b if victim is a else a
            victim.kill()  # kill -9 in the middle of its action, maybe of Slack deliveries too
            with replicas(url, settings, {"instance": f"{victim.instance}2", "serve": True}) as (restarted,):
                both = (survivor, restarted)
                # A human acknowledges on one replica while another resolves, at the same instant.
                race = checks.incident_on_another_platform(url, hung[1])
                codes = post_json_concurrently(
                    [
                        (f"{survivor.base_url}/api/v1/incidents/{race}/ack", {"by": "ana"}),
                        (f"{restarted.base_url}/api/v1/incidents/{race}/resolve", {"by": "ben", "note": "fixed"}),
                    ]
                )
                assert codes in ([200, 200], [409, 200]), codes  # an ack after the resolve is refused
                others = [n for n in range(1, 6) if f"fanz-{n}" != hung[1]]
                post_webhooks([(r.base_url, am_payload(alert)) for alert in resolved(*others) for r in both])
                wait_for("the action to be resumed", lambda: "resumed" in [d for _, d, _ in audit_log(url)], url, 120)
                wait_for("it to succeed", lambda: checks.remediation_status(url, hung[0]) == "verifying", url, 120)
                last = resolved(int(hung[1].split("-")[1]))
                post_webhooks([(r.base_url, am_payload(alert)) for alert in last for r in both])
                wait_for("the replicas to finish", lambda: checks.quiet(url), url, 180)
        ids = checks.incident_ids(url)
        assert len(ids) == 5  # one incident per alert (unrelated alerts), however many replicas got it
        problems = checks.incident_problems(url) + checks.remediation_problems(url, target)
        problems += checks.channel_problems("pagerduty", checks.pagerduty_events(pagerduty), ids, unhurt=set(ids))
        problems += checks.channel_problems("webhook", checks.webhook_events(receiver), ids, unhurt=set(ids))
        slack_hurt = checks.incidents_in(slack.requests[:2])
        problems += checks.channel_problems("slack", checks.slack_events(slack), ids, unhurt=set(ids) - slack_hurt)
        assert problems == []
        assert [d for _, d, _ in audit_log(url)].count("resumed") == 1  # a's action, by another replica
    finally:
        target.close()
