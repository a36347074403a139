"""Replicas in separate OS processes on one PostgreSQL database (``fw_13c_*``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from fanzwatch.store import create_sync_engine, upgrade

from ._fakes import FakePagerDuty, FakeReceiver, wait_until
from ._helpers import T0, TOKEN, am_alert, am_payload
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
