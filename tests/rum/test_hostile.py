"""Hostile input: every request gets its 4xx, none a 5xx, and memory and series stay bounded."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pytest

from fanzwatch.rum.templates import OTHER

from ._helpers import NOW, NOW_MS, RumFactory, RumHarness, batch, make_settings, single, vital

SENT = NOW_MS


async def test_declared_oversized_body_is_refused_before_reading(rum: RumHarness) -> None:
    body = b" " * (64 * 1024 + 1)
    response = await rum.post("batch", body)
    assert response.status_code == 413
    assert response.json() == {"error": "too_large", "detail": "body exceeds 65536 bytes"}


async def test_undeclared_oversized_body_is_cut_while_reading(rum: RumHarness) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024  # no Content-Length: a chunked upload

    response = await rum.client.post(
        "/api/v1/analytics/batch", content=chunks(), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 413
    assert "content-length" not in response.request.headers


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


async def test_gzip_body_is_accepted(rum: RumHarness) -> None:
    response = await rum.post("batch", _gzip(orjson.dumps(batch(vital()))), headers={"content-encoding": "gzip"})
    assert response.status_code == 202


async def test_gzip_bomb_is_stopped_without_inflating_it(rum: RumHarness) -> None:
    bomb = _gzip(b"[" + b" " * (200 * 1024 * 1024) + b"]")  # 200 MiB of JSON whitespace in ~200 KiB
    bomb = bomb[: 60 * 1024]  # fits the 64 KiB body limit; still inflates to ~60 MiB
    tracemalloc.start()
    try:
        response = await rum.post("batch", bomb, headers={"content-encoding": "gzip"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert response.json()["detail"] == "decompressed body exceeds 262144 bytes"
    assert peak < 4 * 1024 * 1024  # never more than a few times the 256 KiB limit


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "corrupt gzip body"),
        (b"not gzip at all", "corrupt gzip body"),
        (_gzip(orjson.dumps(batch(vital())))[:-12], "truncated gzip body"),
        (_gzip(orjson.dumps(batch(vital()))) + b"trailing", "data after the end of the gzip stream"),
        (b"", "truncated gzip body"),
    ],
)
async def test_corrupt_gzip_is_a_400(rum: RumHarness, body: bytes, detail: str) -> None:
    response = await rum.post("batch", body, headers={"content-encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


async def test_inflated_limit_applies_to_plain_bodies_too(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(max_body_bytes=64 * 1024, max_decompressed_bytes=16 * 1024))
    response = await h.post("batch", b" " * (20 * 1024))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 20_000 + b"]" * 20_000,
        b'{"sid":' + b'{"a":' * 10_000 + b"1" + b"}" * 10_001,
        orjson.dumps(batch(vital()))[:-3],
        b"\xff\xfe\x00not utf-8",
        b"",
    ],
    ids=["deep-arrays", "deep-objects", "cut-json", "binary", "empty"],
)
async def test_malformed_json_is_a_400(rum: RumHarness, body: bytes) -> None:
    response = await rum.post("batch", body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid", "detail": "the body is not valid JSON"}


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return event | changes


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            b'{"v":1,"sid":"5f1d3c2b4a6978e0","platform":"fanz-1","sent":1,"url":"https://a.example/","events":[]}',
            "sent",
        ),
        (batch(_with(vital(), value=-1.0)), "events.0.vital.value"),
        (batch(_with(vital(), value=600_001.0)), "events.0.vital.value"),
        (batch(_with(vital("CLS"), value=101.0)), "events.0.vital"),
        (batch(_with(vital(), name="FID")), "events.0.vital.name"),
        (batch(_with(vital(), value=True)), "events.0.vital.value"),
        (batch(_with(vital(), value="1800")), "events.0.vital.value"),
        (batch(_with(vital(), t=1.5e12)), "events.0.vital.t"),
        (
            batch(_with(vital(), attribution={"target": "div>p:contains('hi jane')"})),
            "events.0.vital.attribution.target",
        ),
        (batch(_with(vital(), surprise=1)), "events.0.vital.surprise"),
        (batch({"type": "vital2", "name": "LCP", "value": 1}), "events.0"),
        (
            batch({"type": "interaction", "kind": "click", "target": {"tag": "BUTTON"}}),
            "events.0.interaction.target.tag",
        ),
        (
            batch({"type": "interaction", "kind": "click", "target": {"tag": "a", "text": "x"}}),
            "events.0.interaction.target.text",
        ),
        (batch({"type": "interaction", "kind": "hover", "target": {"tag": "a"}}), "events.0.interaction.kind"),
        (batch({"type": "error", "message": "x" * 1025}), "events.0.error.message"),
        (batch({"type": "error", "message": "x", "line": -1}), "events.0.error.line"),
        (batch({"type": "page_load", "load": 1e9}), "events.0.page_load.load"),
        (batch({"type": "page_load"}), "events.0.page_load.load"),
        (batch(vital(), sid="short"), "sid"),
        (batch(vital(), sid="x" * 65), "sid"),
        (batch(vital(), url="javascript:alert(1)"), "url"),
        (batch(vital(), url="https://a.example/" + "a" * 2040), "url"),
        (batch(vital(), v=2), "v"),
        (batch(), "events"),
        (batch(*[vital()] * 1001), "events"),
        (batch(vital(), sent=4_200_000_000_000), "sent"),
        (batch(vital(), sent=-5), "sent"),
        ({"sid": "5f1d3c2b4a6978e0"}, "platform"),
        ([1, 2, 3], ""),
        ("just a string", ""),
    ],
)
async def test_schema_and_bounds_violations_are_422(rum: RumHarness, body: Any, loc: str) -> None:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    response = await rum.post("batch", raw)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid"
    assert loc in {e["loc"] for e in response.json()["errors"]}
    assert rum.ingestor.pending == 0


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
async def test_non_finite_numbers_are_refused(rum: RumHarness, token: bytes) -> None:
    raw = orjson.dumps(single(name="LCP", value=123456.0)).replace(b"123456.0", token)
    response = await rum.post("rum", raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == "value"


@pytest.mark.parametrize(
    ("events", "detail"),
    [
        ([_with(vital(), t=SENT + 5000)], "event 0: t is 5000 ms after the beacon was sent"),
        ([vital(), _with(vital(), t=SENT - 2 * 86_400_000)], "event 1: t is 172800 s before the beacon was sent"),
    ],
)
async def test_absurd_event_times_are_422(rum: RumHarness, events: list[dict[str, Any]], detail: str) -> None:
    response = await rum.post("batch", batch(*events))
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)
    assert (
        rum.sample(
            "fanz_rum_lcp_seconds_count", platform="fanz-1", page_template="/creator/:id", device_class="desktop"
        )
        == 0
    )


async def test_more_events_than_configured_is_422(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(max_events_per_batch=10))
    response = await h.post("batch", batch(*[vital()] * 11))
    assert response.status_code == 422
    assert response.json()["detail"] == "11 events in one beacon; at most 10"


async def test_a_flood_from_one_client_is_rate_limited(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(rate_limit_per_second=0.5, rate_limit_burst=10))
    statuses = [(await h.post("batch", batch(vital()))).status_code for _ in range(30)]
    assert statuses == [202] * 10 + [429] * 20
    limited = await h.post("batch", batch(vital()))
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"error": "rate_limited", "detail": "too many beacons"}
    assert h.sample("fanz_rum_beacons_total", platform="other", endpoint="batch", outcome="rate_limited") == 21


async def test_address_rotation_keeps_limiter_memory_bounded(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(rate_limit_clients=100, rate_limit_burst=1, trusted_proxy_hops=1))
    # Through one trusted proxy: the client is the right-most X-Forwarded-For entry.
    for i in range(2000):
        xff = f"203.0.113.7, 10.{i // 65536}.{(i // 256) % 256}.{i % 256}"
        response = await h.post("rum", single(name="LCP", value=100.0), headers={"x-forwarded-for": xff})
        assert response.status_code == 202
    assert len(h.beacon.limiter) == 100
    again = await h.post("rum", single(name="LCP", value=100.0), headers={"x-forwarded-for": "1.2.3.4, 10.0.7.207"})
    assert again.status_code == 429  # the most recent clients are still remembered


def _letters(n: int) -> str:
    out = ""
    while True:
        out = chr(ord("a") + n % 26) + out
        n = n // 26 - 1
        if n < 0:
            return out


@pytest.mark.slow
async def test_fifty_thousand_distinct_urls_keep_labels_bounded(rum_factory: RumFactory) -> None:
    h = await rum_factory(
        make_settings(max_page_templates=50, rate_limit_burst=1000, writer_batch_size=5000, max_events_per_batch=200)
    )
    per_batch = 200
    for start in range(0, 50_000, per_batch):
        events = [
            vital("LCP", 1000.0, url=f"https://fanz-1.example/section/{_letters(i)}/page")
            for i in range(start, start + per_batch)
        ]
        response = await h.post("batch", batch(*events, url=events[0]["url"]))
        assert response.status_code == 202
    await h.ingestor.flush()

    templates = h.ingestor.templates
    assert len(templates.known) == 50
    assert templates.cache_size <= 4096
    lcp_series = h.series("fanz_rum_lcp_seconds_count")
    assert len(lcp_series) == 51  # 50 templates + "other"
    assert sum(h.sample("fanz_rum_lcp_seconds_count", **labels) for labels in lcp_series) == 50_000
    assert (
        h.sample("fanz_rum_lcp_seconds_count", platform="fanz-1", page_template=OTHER, device_class="desktop") == 49_950
    )
    assert await h.ingestor.store.count() == 50_000
    assert h.ingestor.pending == 0


async def test_error_fingerprints_are_bounded(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(max_error_fingerprints=5))
    events = [{"type": "error", "message": f"Error: failure kind {_letters(i)}"} for i in range(40)]
    assert (await h.post("batch", batch(*events))).status_code == 202
    series = h.series("fanz_rum_js_errors_total")
    assert len(series) == 6
    assert h.sample("fanz_rum_js_errors_total", platform="fanz-1", kind="error", fingerprint="other") == 35
    # numbers are volatile: these two are the same error
    same = [{"type": "error", "message": f"Error: item {n} missing"} for n in (7, 123456)]
    assert (await h.post("batch", batch(*same))).status_code == 202
    await h.ingestor.flush()
    top = await h.ingestor.store.top_errors(since=NOW - timedelta(hours=1))
    assert [(e.count, e.message) for e in top if e.count > 1] == [(2, "Error: item 123456 missing")]


async def test_decompressor_limits_use_max_length() -> None:
    # Guard for the approach: zlib honours max_length, so a bomb is never inflated whole.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = inflater.decompress(_gzip(b"\0" * 10_000_000), 1000)
    assert len(out) == 1000 and inflater.unconsumed_tail
