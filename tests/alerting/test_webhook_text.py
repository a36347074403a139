"""Text from outside is sanitised before the store: NUL, invalid UTF-8, lone surrogates, controls.

Before, a NUL in an annotation or label made the payload fail on PostgreSQL (``text``
refuses ``\\x00``) at every attempt until the inbox gave up: no incident, no page. Invalid
UTF-8 or a lone surrogate escape was refused as malformed JSON (400), so Alertmanager
retried it for ever and the alert was never seen.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from fanzwatch.alerting.tables import alerts, inbox, incidents, timeline

from ._helpers import TOKEN, Harness, am_alert, am_payload, api_client, base_settings

# In every string of the payload: a NUL (JSON \u0000), a raw invalid UTF-8 byte, a lone
# surrogate escape and an escape-sequence control character.
DIRTY = "\x00@\udcff@\ud800\x1b"
CLEAN = "\ufffd\ufffd"  # the byte and the surrogate became U+FFFD; NUL and ESC are gone
KEPT_KEYS = {"alertname", "platform", "severity", "priority"}  # they steer grouping and priority


def _dirty(value: str) -> str:
    return value + DIRTY


def _dirty_payload() -> dict[str, Any]:
    alert = am_alert(
        "PaymentFailureRate",
        annotations={"summary": "payments failing", "description": "d", "runbook_url": "http://rb/x.md"},
        team="payments",
    )
    alert["labels"] = {(k if k in KEPT_KEYS else _dirty(k)): _dirty(v) for k, v in alert["labels"].items()}
    alert["labels"]["platform"] = "fanz-1"  # a real platform, so the metrics label is checked too
    # Keys too, except the two the incident reads by name.
    alert["annotations"] = {
        (k if k in ("summary", "runbook_url") else _dirty(k)): _dirty(v) for k, v in alert["annotations"].items()
    }
    alert["generatorURL"] = _dirty(alert["generatorURL"])
    payload = am_payload(alert)
    payload["groupKey"] = _dirty(payload["groupKey"])
    payload["receiver"] = _dirty(payload["receiver"])
    payload["externalURL"] = _dirty(payload["externalURL"])
    payload["groupLabels"] = {k: _dirty(v) for k, v in payload["groupLabels"].items()}
    payload["commonLabels"] = {k: _dirty(v) for k, v in payload["commonLabels"].items()}
    payload["commonAnnotations"] = {"summary": _dirty("common")}
    return payload


def _body(payload: dict[str, Any]) -> bytes:
    """JSON as a sloppy sender writes it: escapes for NUL and the surrogate, a raw 0xff byte."""
    text = json.dumps(payload)  # ensure_ascii: "\u0000", "\ud800", "\u001b", "@\udcff@"
    return text.replace("@\\udcff@", "@@").encode().replace(b"@@", b"\xff")


def _json(body: dict[str, str]) -> dict[str, Any]:
    """A request body with escapes (httpx's own ``json=`` cannot encode a lone surrogate)."""
    return {"content": json.dumps(body), "headers": {"Content-Type": "application/json"}}


def _walk(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_walk(k), *_walk(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _walk(v)]
    return []


def _assert_clean(strings: list[str]) -> None:
    for s in strings:
        assert "\x00" not in s and "\x1b" not in s, repr(s)
        assert not any("\ud800" <= ch <= "\udfff" for ch in s), repr(s)


async def test_nul_and_invalid_utf8_in_every_field_are_stored_sanitised(any_store: Harness) -> None:
    h = any_store  # on SQLite and on PostgreSQL
    svc = h.service(base_settings())
    async with api_client(svc) as client:
        r = await client.post(
            "/api/v1/alerts/webhook", content=_body(_dirty_payload()), headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert r.status_code == 202, r.text
        await svc.tick()
        listing = (await client.get("/api/v1/incidents")).json()
        note = await client.post("/api/v1/incidents/1/notes", **_json({"by": "ana", "text": "seen\x00 \ud800it"}))
        resolve = await client.post("/api/v1/incidents/1/resolve", **_json({"by": "ana", "note": "fixed\x00\x1b"}))
        detail = (await client.get("/api/v1/incidents/1")).json()
    assert listing["total"] == 1
    assert (note.status_code, resolve.status_code) == (201, 200)
    async with h.engine.connect() as conn:
        row = (await conn.execute(sa.select(incidents))).one()
        alert = (await conn.execute(sa.select(alerts))).one()
        stored = (await conn.execute(sa.select(inbox.c.body, inbox.c.error))).one()
        notes = (await conn.execute(sa.select(timeline.c.message).where(timeline.c.kind == "note"))).scalars().all()
        messages = (await conn.execute(sa.select(timeline.c.message, timeline.c.data))).all()
    assert stored.error is None
    assert row.title == "PaymentFailureRate" + CLEAN + " on fanz-1"
    assert row.summary == "payments failing" + CLEAN
    assert row.runbook_url == "http://rb/x.md" + CLEAN
    assert row.labels["team" + CLEAN] == "payments" + CLEAN
    assert row.labels["alertname"] == "PaymentFailureRate" + CLEAN
    assert alert.annotations["description" + CLEAN] == "d" + CLEAN
    assert alert.alertname == "PaymentFailureRate" + CLEAN
    assert list(notes) == ["seen \ufffdit", "fixed"]
    payload = json.loads(stored.body)
    assert payload["groupKey"].endswith(CLEAN) and payload["receiver"] == "fanzwatch" + CLEAN
    assert payload["alerts"][0]["generatorURL"] == "http://prometheus:9090/graph" + CLEAN
    _assert_clean(_walk(payload))
    _assert_clean(_walk([tuple(row), tuple(alert), [tuple(m) for m in messages], detail]))
    assert h.metric("fanz_alerting_webhook_alerts_total", platform="fanz-1", status="firing", result="applied") == 1


async def test_sanitising_does_not_merge_or_split_groups(harness: Harness) -> None:
    """The same alert sent clean and with a NUL in a label is one alert of one incident (same fingerprint)."""
    svc = harness.service(base_settings())
    clean = am_alert(instance="a:1")
    later = "2026-03-02T10:05:00Z"  # a new firing of the same alert, not a duplicate event
    dirty = {**clean, "startsAt": later, "labels": {**clean["labels"], "instance": "a:1\x00"}}
    async with api_client(svc) as client:
        for alert in (clean, dirty):
            r = await client.post(
                "/api/v1/alerts/webhook", json=am_payload(alert), headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert r.status_code == 202
        await svc.tick()
        listing = (await client.get("/api/v1/incidents")).json()
        detail = (await client.get("/api/v1/incidents/1")).json()
    assert listing["total"] == 1
    assert [(a["labels"]["instance"], a["fired_count"]) for a in detail["alerts"]] == [("a:1", 2)]
