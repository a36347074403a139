"""fanz-rum.js in a real headless Chromium against a real uvicorn server with RUM mounted.

The page is loaded, clicked, a form with typed text is submitted, an error is thrown
and a promise rejected, then the page is hidden by navigating away: the beacons must
arrive (as sendBeacon "ping" requests), move the metrics, land in the store, and carry
none of what was typed.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, Request, sync_playwright
from prometheus_client import CollectorRegistry

from fanzwatch.rum import ANALYTICS_PREFIX, RumIngestor, build_rum_app, build_rum_router
from fanzwatch.settings.rum import RumSettings
from fanzwatch.store import create_store_engine, upgrade

from ._helpers import CHROME_UA

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET = "jane.doe@example.com-s3cret"

SHOP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Creator 42</title>
<script src="/rum/fanz-rum.js" data-platform="fanz-1" data-interaction-sample-rate="1"></script>
</head><body>
<div id="banner-slot"></div>
<h1>Creator 42: summer photo set</h1>
<p>Some text that is the largest contentful paint of this page, long enough to be the biggest block.</p>
<button id="buy" data-rum="buy-button" onclick="busy(120)">Buy</button>
<form id="checkout" onsubmit="event.preventDefault()">
  <input id="email" name="email" type="text"><button id="pay" type="submit">Pay</button>
</form>
<button id="boom" onclick="throw new TypeError('boom from the test page')">Boom</button>
<button id="reject" onclick="Promise.reject(new Error('rejected on purpose'))">Reject</button>
<script>
  function busy(ms) { const s = performance.now(); while (performance.now() - s < ms) {} }
  // A layout shift without user input: pushes everything down after first paint.
  setTimeout(() => {
    const ad = document.createElement("div"); ad.style.height = "300px"; ad.textContent = "ad";
    document.getElementById("banner-slot").appendChild(ad);
  }, 200);
</script>
</body></html>"""

QUIET_PAGE = """<!doctype html><html><head>
<script>window.fanzRum = {platform: "fanz-2", sampleRate: 0};</script>
<script src="/rum/fanz-rum.js"></script></head><body><p>not sampled</p></body></html>"""


@dataclass
class LiveServer:
    base: str
    registry: CollectorRegistry
    db: Path

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def wait_for(self, condition: Callable[[], bool], within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, "the beacons did not arrive in time"
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("rum-browser") / "rum.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    registry = CollectorRegistry()
    platforms = ("fanz-1", "fanz-2")
    settings = RumSettings(writer_flush_interval_seconds=0.05)  # same origin: no allow-list needed
    engine = create_store_engine(url)  # connects lazily, inside uvicorn's loop
    ingestor = RumIngestor(engine, registry=registry, settings=settings, platforms=platforms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ingestor.start()  # as the server's lifespan does
        yield
        await ingestor.stop()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.mount(ANALYTICS_PREFIX, build_rum_app(ingestor))
    app.include_router(build_rum_router(ingestor, platforms=platforms))

    @app.get("/creator/42", response_class=HTMLResponse)
    @app.get("/post/7", response_class=HTMLResponse)
    def shop() -> str:
        return SHOP_PAGE

    @app.get("/quiet", response_class=HTMLResponse)
    def quiet() -> str:
        return QUIET_PAGE

    @app.get("/bye", response_class=HTMLResponse)
    def bye() -> str:
        return "<!doctype html><p>bye</p>"

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", registry, db)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        # The user agent is set browser-wide: a context override does not reach beacons,
        # and the default "HeadlessChrome" is (rightly) filtered as a bot.
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, f"--user-agent={CHROME_UA}"])
        try:
            yield b
        finally:
            b.close()


def test_a_real_page_view_reaches_metrics_and_store(live: LiveServer, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.base}/creator/42?ref=newsletter&email=jane@doe.com", wait_until="load")
    page.wait_for_timeout(400)  # let the layout shift happen before the interactions
    page.click("#buy")
    page.fill("#email", SECRET)
    page.click("#pay")
    page.click("#boom")
    page.click("#reject")
    page.goto(f"{live.base}/bye")  # hides the page: visibilitychange + pagehide flush the batch

    vital = {"platform": "fanz-1", "page_template": "/creator/:id", "device_class": "desktop"}
    live.wait_for(lambda: live.sample("fanz_rum_inp_seconds_count", **vital) >= 1)
    for name in ("lcp", "fcp", "ttfb", "inp"):
        assert live.sample(f"fanz_rum_{name}_seconds_count", **vital) == 1.0, name
    assert live.sample("fanz_rum_cls_count", **vital) == 1.0
    assert live.sample("fanz_rum_cls_sum", **vital) > 0.0  # the injected banner shifted the layout
    assert live.sample("fanz_rum_inp_seconds_sum", **vital) >= 0.1  # the click handler blocked for 120 ms
    assert live.sample("fanz_rum_page_load_seconds_count", **vital) == 1.0
    interactions = {"platform": "fanz-1", "page_template": "/creator/:id"}
    assert live.sample("fanz_rum_interactions_total", **interactions, kind="submit") == 1.0
    assert live.sample("fanz_rum_interactions_total", **interactions, kind="click") == 4.0  # buy, pay, boom, reject
    assert live.sample("fanz_rum_events_total", platform="fanz-1", type="error") == 2.0

    with httpx.Client(base_url=live.base) as client:
        live.wait_for(lambda: bool(client.get("/api/v1/rum/errors").json()["errors"]))
        errors = client.get("/api/v1/rum/errors", params={"window": "1h"}).json()["errors"]
        vitals = client.get("/api/v1/rum/vitals", params={"window": "1h", "platform": "fanz-1"}).json()
    assert sorted((e["kind"], e["message"]) for e in errors) == [
        ("error", "TypeError: boom from the test page"),
        ("unhandledrejection", "Error: rejected on purpose"),
    ]
    assert [p["page_template"] for p in vitals["pages"]] == ["/creator/:id"]
    assert set(vitals["pages"][0]["vitals"]) == {"LCP", "FCP", "TTFB", "INP", "CLS"}

    with sqlite3.connect(live.db) as conn:
        rows = conn.execute("SELECT type, name, url, detail, message FROM rum_events").fetchall()
    dump = repr(rows)
    assert SECRET not in dump and "jane@doe.com" not in dump and "newsletter" not in dump
    assert {r[2] for r in rows} == {f"{live.base}/creator/42"}
    targets = {r[3] for r in rows if r[0] == "interaction"}
    assert '{"tag":"button","id":"buy","data":"buy-button","selector":"button#buy"}' in targets
    assert '{"tag":"form","id":"checkout","selector":"form#checkout"}' in targets
    context.close()


IDLE = "() => new Promise(done => requestIdleCallback(() => done(), {timeout: 2000}))"
HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _beacon(page: Page, action: Callable[[], None]) -> Request:
    with page.expect_request(lambda r: r.url.endswith("/api/v1/analytics/batch") and r.method == "POST") as info:
        action()
    return info.value


def test_hiding_the_tab_sends_one_batch_by_send_beacon(live: LiveServer, browser: Browser) -> None:
    # Headless Chromium never hides a tab, so the test flips visibilityState the way
    # web-vitals' own tests do; the page stays alive and its requests are observable.
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.base}/post/7", wait_until="load")
    page.click("#buy")
    # web-vitals processes Event Timing entries in an idle callback: wait for the next one
    # (callbacks run in order, so its own has run by then).
    page.wait_for_function("() => performance.getEntriesByType('first-input').length > 0")
    page.evaluate(IDLE)
    first = _beacon(page, lambda: page.evaluate(HIDE))
    assert first.resource_type == "ping"  # navigator.sendBeacon, not fetch
    assert first.headers["content-type"] == "text/plain;charset=UTF-8"  # no CORS preflight needed
    body = orjson.loads(first.post_data or "")
    assert set(body) == {"v", "sid", "platform", "sent", "url", "events"}
    assert re.fullmatch(r"[0-9a-f]{32}", body["sid"])
    assert body["url"] == f"{live.base}/post/7"
    kinds = sorted(e.get("name", e["type"]) for e in body["events"])
    assert {"LCP", "FCP", "TTFB", "INP", "CLS", "page_load", "interaction"} <= set(kinds)

    page.evaluate(SHOW)
    page.fill("#email", SECRET)
    page.click("#pay")
    second = _beacon(page, lambda: page.evaluate(HIDE))
    events = orjson.loads(second.post_data or "")["events"]
    assert orjson.loads(second.post_data or "")["sid"] == body["sid"]  # one session per tab
    assert [e["type"] for e in events if e["type"] != "vital"] == ["interaction", "interaction"]  # only new ones
    assert SECRET not in (second.post_data or "")
    context.close()


def test_an_unsampled_tab_sends_nothing(live: LiveServer, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.base}/quiet", wait_until="load")
    state = page.evaluate("() => ({started: window.fanzRum.started, flush: typeof window.fanzRum.flush})")
    assert state == {"started": True, "flush": "undefined"}  # configured, but this tab is not sampled
    assert page.evaluate("() => sessionStorage.getItem('fanz_rum_sampled')") == "0"
    context.close()
