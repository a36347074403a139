"""The Alertmanager webhook: authenticated, size-limited, 202 once stored, idempotent."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from fanzwatch.alerting.tables import alert_events, inbox, incidents, outbox

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import (
    TOKEN,
    Harness,
    am_alert,
    am_payload,
    api_client,
    base_settings,
    eventually,
    on_call_settings,
    post_alerts,
)

URL = "/api/v1/alerts/webhook"


async def count(h: Harness, table: sa.Table) -> int:
    async with h.engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_a_valid_payload_is_stored_and_answered_202_before_processing(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as client:
        r = await post_alerts(client, am_payload(am_alert(), am_alert("HighErrorRate", severity="warning")))
    assert r.status_code == 202
    assert r.json() == {"status": "accepted", "inbox_id": 1, "alerts": 2}
    assert await count(harness, inbox) == 1
    assert await count(harness, incidents) == 0  # processed by the worker, not in the request
    await svc.tick()
    assert await count(harness, incidents) == 2
    async with harness.engine.connect() as conn:
        processed = (await conn.execute(sa.select(inbox.c.processed_at, inbox.c.error))).one()
    assert processed.processed_at == harness.clock.now() and processed.error is None
    assert harness.metric("fanz_alerting_webhook_payloads_total", platform="fanz-1", result="accepted") == 1


@pytest.mark.parametrize(
    ("headers", "settings"),
    [
        ({}, {}),
        ({"Authorization": "Bearer wrong-token"}, {}),
        ({"Authorization": f"Bearer {TOKEN}x"}, {}),
        ({"Authorization": f"Basic {base64.b64encode(TOKEN.encode()).decode()}"}, {}),
        ({"Authorization": "Basic " + base64.b64encode(b"am:nope").decode()}, {"webhook_basic_username": "am"}),
        ({"Authorization": "Basic " + base64.b64encode(b"xx:pw").decode()}, {"webhook_basic_username": "am"}),
        ({"Authorization": "Basic %%%not-base64"}, {"webhook_basic_username": "am"}),
    ],
    ids=["missing", "wrong", "longer", "bearer-as-basic", "basic-wrong-password", "basic-wrong-user", "garbage"],
)
async def test_a_forged_webhook_is_401_and_stores_nothing(
    harness: Harness, headers: dict[str, str], settings: dict[str, Any]
) -> None:
    extra = {"webhook_token": None, "webhook_basic_password": "pw", **settings} if settings else {}
    svc = harness.service(base_settings(**extra))
    async with api_client(svc) as client:
        r = await client.post(URL, json=am_payload(am_alert()), headers=headers)
    assert r.status_code == 401
    assert r.json() == {"detail": "invalid or missing credentials"}
    assert "Bearer" in r.headers["www-authenticate"]
    await svc.tick()
    assert await count(harness, inbox) == 0
    assert await count(harness, incidents) == 0
    assert harness.metric("fanz_alerting_webhook_payloads_total", platform="other", result="unauthorized") == 1


async def test_basic_auth_from_a_secret_file_is_accepted(harness: Harness, tmp_path: Any) -> None:
    secret = tmp_path / "am_password"
    secret.write_text("pa:ss word\n")
    svc = harness.service(
        base_settings(webhook_token=None, webhook_basic_username="am", webhook_basic_password={"file": str(secret)})
    )
    auth = "Basic " + base64.b64encode(b"am:pa:ss word").decode()
    async with api_client(svc) as client:
        r = await client.post(URL, json=am_payload(am_alert()), headers={"Authorization": auth})
    assert r.status_code == 202


@pytest.mark.parametrize(
    ("mutate", "expected", "reason"),
    [
        (
            lambda p: p | {"version": "3"},
            "unsupported webhook payload version '3': only version 4",
            "unsupported_version",
        ),
        (lambda p: {k: v for k, v in p.items() if k != "groupKey"}, "at groupKey: Field required", "malformed"),
        (lambda p: p | {"alerts": []}, "at alerts: List should have at least 1 item", "malformed"),
        (lambda p: p | {"status": "pending"}, "at status: Input should be 'firing' or 'resolved'", "malformed"),
        (
            lambda p: p | {"alerts": [{**p["alerts"][0], "startsAt": "yesterday"}]},
            "at alerts.0.startsAt: Input should be a valid datetime",
            "malformed",
        ),
        (
            lambda p: p | {"alerts": [{**p["alerts"][0], "labels": {"severity": "critical"}}]},
            "at alerts.0.labels: Value error, an alert needs an alertname label",
            "malformed",
        ),
        (lambda p: "not json at all", "malformed Alertmanager payload at body: Invalid JSON", "malformed"),
    ],
    ids=["version-3", "no-group-key", "no-alerts", "bad-status", "bad-time", "no-alertname", "not-json"],
)
async def test_a_malformed_or_unknown_version_payload_is_400_and_changes_nothing(
    harness: Harness, mutate: Any, expected: str, reason: str
) -> None:
    svc = harness.service(base_settings())
    body = mutate(am_payload(am_alert()))
    raw = body if isinstance(body, str) else json.dumps(body)
    async with api_client(svc) as client:
        r = await client.post(URL, content=raw, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400
    assert expected in r.json()["detail"]
    await svc.tick()
    assert await count(harness, inbox) == 0
    assert await count(harness, incidents) == 0
    assert harness.metric("fanz_alerting_webhook_payloads_total", platform="other", result=reason) == 1


async def test_a_payload_over_the_size_limit_is_413_without_reading_it_all(harness: Harness) -> None:
    svc = harness.service(base_settings(max_body_bytes=2048))
    big = am_payload(am_alert(annotations={"summary": "x" * 4000}))
    async with api_client(svc) as client:
        declared = await post_alerts(client, big)

        async def chunks() -> Any:  # no Content-Length: the limit applies while streaming
            raw = json.dumps(big).encode()
            for i in range(0, len(raw), 512):
                yield raw[i : i + 512]

        streamed = await client.post(URL, content=chunks(), headers={"Authorization": f"Bearer {TOKEN}"})
    for r in (declared, streamed):
        assert r.status_code == 413
        assert r.json() == {"detail": "payload larger than 2048 bytes"}
    assert await count(harness, inbox) == 0


async def test_replayed_and_ha_duplicated_payloads_act_once(
    any_store: Harness, slack: FakeSlack, pagerduty: FakePagerDuty
) -> None:
    h = any_store
    svc = h.service(on_call_settings(slack, pagerduty))
    firing = am_payload(am_alert())
    async with api_client(svc) as client:
        for _ in range(3):  # a replay, then the HA peer's identical notification
            assert (await post_alerts(client, firing)).status_code == 202
        await svc.tick()
        for _ in range(2):
            assert (await post_alerts(client, firing)).status_code == 202
        await svc.tick()
    assert await count(h, inbox) == 5
    assert await count(h, incidents) == 1
    assert await count(h, alert_events) == 1
    assert pagerduty.events() == [("trigger", "fanzwatch-incident-1")]
    assert len(slack.accepted) == 1
    assert h.metric("fanz_alerting_webhook_alerts_total", platform="fanz-1", status="firing", result="applied") == 1
    assert h.metric("fanz_alerting_webhook_alerts_total", platform="fanz-1", status="firing", result="duplicate") == 4
    async with h.engine.connect() as conn:
        timeline_kinds = (await conn.execute(sa.text("SELECT kind FROM alerting_timeline ORDER BY id"))).scalars().all()
        queued = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar_one()
    assert timeline_kinds.count("alert_fired") == 1
    assert queued == 2  # ana's PagerDuty and Slack, once each


async def test_payloads_stored_before_a_restart_are_processed_after_it(harness: Harness) -> None:
    first = harness.service(base_settings())
    async with api_client(first) as client:
        assert (await post_alerts(client, am_payload(am_alert()))).status_code == 202
    # The server stops before the worker ran; a new one starts on the same store.
    second = harness.service(base_settings())
    await second.start()
    await eventually("the stored payload processed", lambda: count(harness, incidents))
    assert await count(harness, incidents) == 1


async def test_old_payloads_and_closed_incidents_keys_are_purged(harness: Harness) -> None:
    svc = harness.service(base_settings())
    async with api_client(svc) as client:
        await post_alerts(client, am_payload(am_alert()))  # stays firing: incident 1 open
        await post_alerts(client, am_payload(am_alert("HighLatency", severity="warning")))
        await post_alerts(client, am_payload(am_alert("HighLatency", severity="warning", status="resolved")))
        await svc.tick()
    harness.clock.advance(timedelta(days=31))
    await svc.tick()  # the hourly purge runs on its first round
    assert await count(harness, inbox) == 0
    async with harness.engine.connect() as conn:
        kept = (await conn.execute(sa.select(alert_events.c.incident_id, alert_events.c.status))).all()
    assert [tuple(r) for r in kept] == [(1, "firing")]  # the open incident's key still dedups repeats


async def test_a_failing_payload_is_retried_with_backoff_for_a_day_not_dropped_after_five(harness: Harness) -> None:
    svc = harness.service(base_settings())
    row_id = await svc.inbox.store("not a payload", harness.clock.now())  # fails to parse, every time

    async def state() -> tuple[int, object]:
        async with harness.engine.connect() as conn:
            r = (
                await conn.execute(sa.select(inbox.c.attempts, inbox.c.processed_at).where(inbox.c.id == row_id))
            ).one()
        return int(r.attempts), r.processed_at

    for _ in range(5):
        await svc.inbox.drain()  # no time passes: one attempt, then it backs off
    assert await state() == (1, None)
    for _ in range(12):  # 1 s, 2 s, 4 s ... capped at 5 min: 12 retries in ~35 min
        harness.clock.advance(timedelta(minutes=5))
        await svc.inbox.drain()
    attempts, processed = await state()
    assert (attempts, processed) == (13, None)  # well past the old limit of 5, still pending
    harness.clock.advance(timedelta(hours=24))
    await svc.inbox.drain()
    attempts, processed = await state()
    assert attempts == 14 and processed == harness.clock.now()  # set aside only after a day, with its error
