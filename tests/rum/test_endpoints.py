"""The beacon endpoints on the happy path and their access rules (CORS, key, bots, media types)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from fanzwatch.rum import RumBeaconMiddleware, RumIngestor, build_rum_app, build_rum_router
from fanzwatch.rum.tables import rum_events

from ._helpers import CHROME_UA, NOW_MS, ORIGIN, PAGE, SID, RumFactory, RumHarness, batch, make_settings, single, vital

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
LABELS = {"platform": "fanz-1", "page_template": "/creator/:id", "device_class": "desktop"}


async def _rows(h: RumHarness) -> list[Any]:
    await h.ingestor.flush()
    async with h.ingestor.store.engine.connect() as conn:
        return list((await conn.execute(sa.select(rum_events).order_by(rum_events.c.id))).all())


async def test_a_batch_is_accepted_measured_and_stored(rum: RumHarness) -> None:
    body = batch(
        vital("LCP", 1830.0, attribution={"target": "main>img#hero", "url": "https://cdn.example/hero.jpg?sig=abc"}),
        vital("CLS", 0.12),
        {"type": "page_load", "t": NOW_MS - 500, "load": 2300.0, "ttfb": 120.5, "trace_id": TRACE_ID},
        {"type": "interaction", "t": NOW_MS - 200, "kind": "click", "target": {"tag": "button", "id": "buy"}},
        {
            "type": "error",
            "t": NOW_MS - 100,
            "message": "TypeError: cannot read 'x' for jane@doe.com",
            "stack": "TypeError: x\n    at pay (https://fanz-1.example/app.js?v=9:10:5)",
        },
        url=PAGE + "?email=jane@doe.com#frag",
    )
    response = await rum.post("batch", body)

    assert response.status_code == 202
    assert response.json() == {"accepted": 5}
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert rum.sample("fanz_rum_lcp_seconds_count", **LABELS) == 1.0
    assert rum.sample("fanz_rum_lcp_seconds_sum", **LABELS) == pytest.approx(1.83)
    assert rum.sample("fanz_rum_lcp_seconds_bucket", **LABELS, le="2.0") == 1.0
    assert rum.sample("fanz_rum_lcp_seconds_bucket", **LABELS, le="1.5") == 0.0
    assert rum.sample("fanz_rum_cls_sum", **LABELS) == pytest.approx(0.12)
    assert rum.sample("fanz_rum_page_load_seconds_sum", **LABELS) == pytest.approx(2.3)
    assert rum.sample("fanz_rum_interactions_total", platform="fanz-1", page_template="/creator/:id", kind="click") == 1
    assert rum.sample("fanz_rum_events_total", platform="fanz-1", type="vital") == 2.0
    assert rum.sample("fanz_rum_beacons_total", platform="fanz-1", endpoint="batch", outcome="accepted") == 1.0
    errors = [s for s in rum.series("fanz_rum_js_errors_total") if s.get("kind") == "error"]
    assert len(errors) == 1 and len(errors[0]["fingerprint"]) == 12

    rows = await _rows(rum)
    assert [r.type for r in rows] == ["vital", "vital", "page_load", "interaction", "error"]
    assert {r.url for r in rows} == {PAGE}  # query and fragment gone
    assert {r.session_id for r in rows} == {SID}
    assert [r.occurred_at_ms for r in rows] == [NOW_MS - 1000, NOW_MS - 1000, NOW_MS - 500, NOW_MS - 200, NOW_MS - 100]
    assert rows[0].value == pytest.approx(1.83) and rows[1].value == pytest.approx(0.12)
    assert orjson.loads(rows[0].detail) == {
        "attribution": {"target": "main>img#hero", "url": "https://cdn.example/hero.jpg"}
    }
    # The page view keeps its trace id: it links to the backend trace of the page's calls.
    page_load = orjson.loads(rows[2].detail)
    assert (page_load["ttfb"], page_load["trace_id"]) == (120.5, TRACE_ID)
    assert orjson.loads(rows[3].detail) == {"tag": "button", "id": "buy"}
    assert rows[4].message == "TypeError: cannot read 'x' for [email]"
    assert orjson.loads(rows[4].detail)["stack"] == "TypeError: x\n    at pay (https://fanz-1.example/app.js:10:5)"
    assert rows[4].fingerprint == errors[0]["fingerprint"]
    assert rum.sample("fanz_rum_stored_events_total", platform="fanz-1") == 5.0
    assert rum.sample("fanz_rum_queued_events", platform="fanz-1") == 0.0


@pytest.mark.parametrize("trace_id", ["0" * 32, "4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f35", 42])
async def test_a_page_view_with_a_malformed_trace_id_is_refused(rum: RumHarness, trace_id: object) -> None:
    body = batch({"type": "page_load", "t": NOW_MS - 500, "load": 2300.0, "trace_id": trace_id})
    assert (await rum.post("batch", body)).status_code == 422  # as every invalid event field
    assert await _rows(rum) == []


async def test_a_wrong_client_clock_does_not_move_events(rum: RumHarness) -> None:
    # The client's clock is a year behind; only sent - t (250 ms) is used.
    year = 365 * 86_400_000
    body = batch(vital("FCP", 900.0) | {"t": NOW_MS - year - 250}, sent=NOW_MS - year)
    assert (await rum.post("batch", body)).status_code == 202
    assert [r.occurred_at_ms for r in await _rows(rum)] == [NOW_MS - 250]


@pytest.mark.parametrize(
    ("endpoint", "fields", "family", "labels", "value"),
    [
        ("rum", {"name": "INP", "value": 240.0}, "fanz_rum_inp_seconds_sum", LABELS, 0.24),
        ("rum", {"name": "TTFB", "value": 810.0}, "fanz_rum_ttfb_seconds_sum", LABELS, 0.81),
        ("page-load", {"load": 3100.0, "dns": 12.0}, "fanz_rum_page_load_seconds_sum", LABELS, 3.1),
        (
            "interaction",
            {"kind": "submit", "target": {"tag": "form", "id": "checkout"}},
            "fanz_rum_interactions_total",
            {"platform": "fanz-1", "page_template": "/creator/:id", "kind": "submit"},
            1.0,
        ),
        (
            "error",
            {"kind": "unhandledrejection", "message": "Error: nope"},
            "fanz_rum_events_total",
            {"platform": "fanz-1", "type": "error"},
            1.0,
        ),
    ],
)
async def test_the_guides_single_event_endpoints(
    rum: RumHarness, endpoint: str, fields: dict[str, Any], family: str, labels: dict[str, str], value: float
) -> None:
    response = await rum.post(endpoint, single(**fields), content_type="application/json")
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": 1}
    assert rum.sample(family, **labels) == pytest.approx(value)
    rows = await _rows(rum)
    assert len(rows) == 1 and rows[0].occurred_at_ms == NOW_MS
    assert rows[0].detail is None or "sid" not in rows[0].detail


async def test_a_single_endpoint_refuses_another_events_fields(rum: RumHarness) -> None:
    response = await rum.post("rum", single(load=100.0))
    assert response.status_code == 422
    locs = {e["loc"] for e in response.json()["errors"]}
    assert locs == {"name", "value", "load"}


async def test_an_unknown_platform_is_counted_as_other(rum: RumHarness) -> None:
    assert (await rum.post("batch", batch(vital(), platform="not-a-platform"))).status_code == 202
    assert rum.sample("fanz_rum_lcp_seconds_count", **(LABELS | {"platform": "other"})) == 1.0


async def test_cors_preflight_and_origins(rum: RumHarness) -> None:
    pre = await rum.client.options(
        "/api/v1/analytics/batch",
        headers={"origin": ORIGIN, "access-control-request-method": "POST"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == ORIGIN
    assert pre.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert "content-encoding" in pre.headers["access-control-allow-headers"]
    assert "content-length" not in pre.headers

    evil = "https://evil.example"
    bad_pre = await rum.client.options("/api/v1/analytics/batch", headers={"origin": evil})
    assert bad_pre.status_code == 403
    assert "access-control-allow-origin" not in bad_pre.headers
    bad = await rum.post("batch", batch(vital()), headers={"origin": evil})
    assert bad.status_code == 403
    assert bad.json() == {"error": "forbidden_origin", "detail": "origin https://evil.example is not allowed"}
    # the refused preflight and the refused POST
    assert rum.sample("fanz_rum_beacons_total", platform="other", endpoint="batch", outcome="forbidden_origin") == 2

    same_origin = await rum.post("batch", batch(vital()), headers={"origin": "http://fanzwatch.test"})
    assert same_origin.status_code == 202
    assert same_origin.headers["access-control-allow-origin"] == "http://fanzwatch.test"


async def test_no_origin_is_allowed_unless_required(rum_factory: RumFactory) -> None:
    lenient = await rum_factory()
    strict = await rum_factory(make_settings(require_origin=True))
    body = orjson.dumps(batch(vital()))
    headers = {"content-type": "application/json", "user-agent": CHROME_UA}
    assert (await lenient.client.post("/api/v1/analytics/batch", content=body, headers=headers)).status_code == 202
    assert (await strict.client.post("/api/v1/analytics/batch", content=body, headers=headers)).status_code == 403


async def test_public_key(rum_factory: RumFactory) -> None:
    h = await rum_factory(make_settings(public_keys=("pk_live_abc12345",)))
    body = batch(vital())
    missing = await h.post("batch", body)
    assert missing.status_code == 401
    assert missing.json()["detail"] == "a public key is required (?k=... or X-Fanz-Rum-Key)"
    assert (await h.post("batch", body, path="/api/v1/analytics/batch?k=pk_live_wrong999")).status_code == 401
    assert (await h.post("batch", body, path="/api/v1/analytics/batch?x=1&k=pk_live_abc12345")).status_code == 202
    assert (await h.post("batch", body, headers={"x-fanz-rum-key": "pk_live_abc12345"})).status_code == 202


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0 Safari/537.36",
        "python-httpx/0.28.1",
        "",
    ],
)
async def test_bots_are_ignored(rum: RumHarness, user_agent: str) -> None:
    response = await rum.post("batch", batch(vital()), headers={"user-agent": user_agent})
    assert response.status_code == 204
    assert response.content == b""
    assert rum.ingestor.pending == 0
    assert rum.sample("fanz_rum_lcp_seconds_count", **LABELS) == 0.0
    assert rum.sample("fanz_rum_beacons_total", platform="other", endpoint="batch", outcome="bot") == 1.0


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "mobile"),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36", "mobile"),
        ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "tablet"),
        ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/130.0 Safari/537.36", "tablet"),
        (CHROME_UA, "desktop"),
    ],
)
async def test_device_class_from_user_agent(rum: RumHarness, user_agent: str, device: str) -> None:
    assert (await rum.post("batch", batch(vital()), headers={"user-agent": user_agent})).status_code == 202
    assert rum.sample("fanz_rum_lcp_seconds_count", **(LABELS | {"device_class": device})) == 1.0


@pytest.mark.parametrize(
    ("content_type", "encoding", "status"),
    [
        ("text/plain;charset=UTF-8", None, 202),
        ("application/json", None, 202),
        ("Application/JSON; charset=utf-8", "identity", 202),
        ("application/xml", None, 415),
        ("", None, 415),
        ("application/json", "br", 415),
        ("application/json", "gzip, gzip", 415),
    ],
)
async def test_media_types_and_encodings(rum: RumHarness, content_type: str, encoding: str | None, status: int) -> None:
    headers = {"content-encoding": encoding} if encoding else {}
    response = await rum.post("batch", batch(vital()), content_type=content_type, headers=headers)
    assert response.status_code == status


async def test_unknown_paths_and_methods(rum: RumHarness) -> None:
    missing = await rum.post("nope", batch(vital()))
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "no beacon endpoint at /api/v1/analytics/nope"}
    wrong = await rum.client.get("/api/v1/analytics/batch")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST, OPTIONS"


async def test_mounted_instead_of_middleware_answers_the_same(rum_factory: RumFactory) -> None:
    h = await rum_factory(mount=True)
    assert (await h.post("batch", batch(vital()))).status_code == 202
    assert (await h.post("nope", batch(vital()))).status_code == 404
    assert h.sample("fanz_rum_lcp_seconds_count", **LABELS) == 1.0


async def test_before_start_everything_is_503() -> None:
    registry = CollectorRegistry()
    ingestor = RumIngestor(registry=registry, settings=make_settings(), platforms=("fanz-1",))
    app = FastAPI()
    app.add_middleware(RumBeaconMiddleware, beacon=build_rum_app(ingestor))
    app.include_router(build_rum_router(ingestor, platforms=("fanz-1",)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"user-agent": CHROME_UA}) as c:
        body = orjson.dumps(batch(vital()))
        beacon = await c.post("/api/v1/analytics/batch", content=body, headers={"content-type": "text/plain"})
        assert beacon.status_code == 503
        assert beacon.json()["error"] == "unavailable"
        api = await c.get("/api/v1/rum/vitals")
        assert api.status_code == 503
        assert api.json() == {"detail": "RUM ingestion has not started"}
        assert (await c.get("/api/v1/rum/nothing-here")).status_code == 404  # the rest of the app is untouched
    with pytest.raises(RuntimeError, match="needs an engine"):
        await ingestor.start()


class _BuggyIngestor(RumIngestor):
    """An ingestor with a bug in accept: the boundary must contain it."""

    def accept(self, *args: Any, **kwargs: Any) -> str:
        raise KeyError("a bug")


async def test_a_bug_is_contained_logged_and_counted(rum_factory: RumFactory, caplog: pytest.LogCaptureFixture) -> None:
    h = await rum_factory()
    buggy = _BuggyIngestor(registry=CollectorRegistry(), settings=make_settings(), platforms=("fanz-1",))
    await buggy.start(h.ingestor.store.engine)
    try:
        app = build_rum_app(buggy)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"user-agent": CHROME_UA}) as c:
            response = await c.post(
                "/api/v1/analytics/batch", content=orjson.dumps(batch(vital())), headers={"content-type": "text/plain"}
            )
        assert response.status_code == 500
        assert response.json() == {"error": "error", "detail": "internal error"}
        assert (
            buggy.metrics.registry.get_sample_value(
                "fanz_rum_beacons_total", {"platform": "other", "endpoint": "batch", "outcome": "error"}
            )
            == 1.0
        )
        assert "RUM beacon handling failed" in caplog.text
    finally:
        await buggy.stop()
