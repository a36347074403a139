"""The event store and the read API, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from _waiting import async_wait_until
from fanzwatch.core.clock import FrozenClock
from fanzwatch.rum.records import Row
from fanzwatch.rum.store import RumEventStore, epoch_ms, from_epoch_ms
from fanzwatch.store import create_store_engine, create_sync_engine, current_heads, upgrade

from ._helpers import NOW, NOW_MS, RumFactory, make_settings

MINUTE = 60_000


def _row(
    *,
    at: int = NOW_MS,
    kind: str = "vital",
    name: str = "LCP",
    value: float | None = 1.0,
    template: str = "/a",
    platform: str = "fanz-1",
    device: str = "desktop",
    sid: str = "s0000001",
    fingerprint: str | None = None,
    message: str | None = None,
) -> Row:
    return (
        at,
        at,
        kind,
        platform,
        template,
        device,
        sid,
        name,
        value,
        fingerprint,
        "https://x.example/a",
        message,
        None,
    )


def test_the_rum_branch_migrates_and_is_idempotent(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)
    applied, known = current_heads(store_url)
    assert applied == known and "rum_0002" in applied
    engine = create_sync_engine(store_url)
    try:
        inspector = sa.inspect(engine)
        assert {"rum_events", "rum_dead_letters"} <= set(inspector.get_table_names())
        assert [i["column_names"] for i in inspector.get_indexes("rum_events")] == [["type", "occurred_at_ms"]]
    finally:
        engine.dispose()


async def test_p75_top_errors_and_purge(store_url: str) -> None:
    upgrade(store_url)
    engine = create_store_engine(store_url)
    store = RumEventStore(engine)
    try:
        rows = [_row(value=v) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]  # p75 by nearest rank: the 4th of 5
        rows += [_row(name="CLS", value=0.3, template="/b"), _row(name="CLS", value=0.1, template="/b")]
        rows += [_row(value=9.0, platform="fanz-2"), _row(value=8.0, device="mobile")]
        rows += [_row(value=99.0, at=NOW_MS - 2 * 60 * MINUTE)]  # outside a 1 h window
        rows += [
            _row(kind="error", name="error", value=None, fingerprint="aaa", message="A", sid=f"s{i:07d}", at=NOW_MS - i)
            for i in range(3)
        ]
        rows += [_row(kind="error", name="error", value=None, fingerprint="aaa", message="A", sid="s0000000")]
        rows += [_row(kind="error", name="unhandledrejection", value=None, fingerprint="bbb", message="B")]
        await store.write(rows)
        assert await store.count() == len(rows)

        hour = NOW - timedelta(hours=1)
        p75 = {(v.page_template, v.name): (v.p75, v.count) for v in await store.vitals_p75(since=hour)}
        # all platforms and devices: 1 2 3 4 5 8 9 -> rank ceil(0.75 * 7) = 6 -> 8.0
        assert p75 == {("/a", "LCP"): (8.0, 7), ("/b", "CLS"): (0.3, 2)}
        only = await store.vitals_p75(since=hour, platform="fanz-1", device_class="desktop")
        assert [(v.page_template, v.name, v.p75, v.count) for v in only] == [
            ("/a", "LCP", 4.0, 5),
            ("/b", "CLS", 0.3, 2),
        ]
        assert await store.vitals_p75(since=hour, platform="fanz-3") == []

        top = await store.top_errors(since=hour)
        assert [(e.fingerprint, e.kind, e.message, e.count, e.sessions) for e in top] == [
            ("aaa", "error", "A", 4, 3),
            ("bbb", "unhandledrejection", "B", 1, 1),
        ]
        assert top[0].last_seen == NOW
        assert len(await store.top_errors(since=hour, limit=1)) == 1

        assert await store.purge(older_than=NOW - timedelta(minutes=90)) == 1
        assert await store.count() == len(rows) - 1
    finally:
        await engine.dispose()


def test_epoch_ms_round_trip() -> None:
    assert epoch_ms(NOW) == NOW_MS
    assert from_epoch_ms(NOW_MS) == NOW
    with pytest.raises(ValueError, match="timezone-aware"):
        epoch_ms(NOW.replace(tzinfo=None))


async def test_retention_deletes_expired_events_at_start(rum_factory: RumFactory, store_url: str) -> None:
    upgrade(store_url)
    engine = create_store_engine(store_url)
    old = NOW_MS - 31 * 86_400_000
    try:
        await RumEventStore(engine).write([_row(at=old), _row(at=old + 1), _row()])
    finally:
        await engine.dispose()
    clock = FrozenClock(NOW)
    h = await rum_factory(make_settings(retention_days=30), url=store_url, clock=clock)

    async def purged() -> bool:
        return await h.ingestor.store.count() == 1

    # the retention job purges once right at start
    await async_wait_until(purged, timeout=30, message="the retention job did not purge at start")
    clock.advance(timedelta(days=31))
    assert await h.ingestor.purge_expired() == 1


async def test_the_read_api(rum_factory: RumFactory, store_url: str) -> None:
    h = await rum_factory(url=store_url)
    await h.ingestor.store.write(
        [_row(value=v, template="/creator/:id") for v in (1.0, 2.6, 4.5, 3.0)]
        + [_row(name="INP", value=0.6, template="/creator/:id"), _row(name="CLS", value=0.2, template="/")]
        + [_row(kind="error", name="error", value=None, fingerprint="f00dfeedbeef", message="TypeError: x")]
    )
    vitals = await h.client.get("/api/v1/rum/vitals", params={"window": "30m", "platform": "fanz-1"})
    assert vitals.status_code == 200
    assert vitals.json() == {
        "window_seconds": 1800,
        "since": "2026-11-26T11:30:00Z",
        "platform": "fanz-1",
        "device_class": None,
        "pages": [
            {"page_template": "/", "vitals": {"CLS": {"p75": 0.2, "count": 1, "rating": "needs-improvement"}}},
            {
                "page_template": "/creator/:id",
                "vitals": {
                    "INP": {"p75": 0.6, "count": 1, "rating": "poor"},
                    "LCP": {"p75": 3.0, "count": 4, "rating": "needs-improvement"},
                },
            },
        ],
    }
    errors = await h.client.get("/api/v1/rum/errors", params={"window": "1d", "limit": 5})
    assert errors.status_code == 200
    assert errors.json()["errors"] == [
        {
            "fingerprint": "f00dfeedbeef",
            "kind": "error",
            "message": "TypeError: x",
            "count": 1,
            "sessions": 1,
            "last_seen": "2026-11-26T12:00:00Z",
        }
    ]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"window": "15m"}, 200),
        ({"window": "90d"}, 200),
        ({"window": "91d"}, 422),
        ({"window": "0h"}, 422),
        ({"window": "1w"}, 422),
        ({"window": "x" * 9}, 422),
        ({"platform": "fanz-9"}, 422),
        ({"platform": "other"}, 200),
        ({"device_class": "watch"}, 422),
        ({"device_class": "mobile"}, 200),
    ],
)
async def test_read_api_parameters(rum_factory: RumFactory, params: dict[str, str], status: int) -> None:
    h = await rum_factory()
    assert (await h.client.get("/api/v1/rum/vitals", params=params)).status_code == status


async def test_the_script_is_served_with_caching(rum_factory: RumFactory) -> None:
    h = await rum_factory()
    first = await h.client.get("/rum/fanz-rum.js")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/javascript; charset=utf-8"
    assert first.headers["cache-control"] == "public, max-age=300"
    assert first.content.startswith(b"/*! fanz-rum.js")
    again = await h.client.get("/rum/fanz-rum.js", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
