"""fanz-rum.js in a real headless Chromium: one trace per page view, each sampled at ``traceSampleRate``.

The pages and their API are answered by Playwright's routing (no server needed for a
header): every call the page makes to ``/api/`` is recorded with its ``traceparent``.
A single-page app changes route with ``history.pushState`` and goes back with
``history.back()``; a reload is a new document and so a new view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright

from fanzwatch.rum import load_script

from ._helpers import CHROME_UA
from .test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORIGIN = "http://fanz-1.test"
META_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
HEADER = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])")


@dataclass
class Call:
    path: str
    trace_id: str
    span_id: str
    flags: str


@dataclass
class App:
    """What the pages are (their meta tag and RUM options) and the API calls they made."""

    meta: str | None = None
    options: dict[str, object] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    untraced: list[str] = field(default_factory=list)

    def page_html(self) -> str:
        meta = f'<meta name="traceparent" content="{self.meta}">' if self.meta else ""
        options = json.dumps({"platform": "fanz-1", **self.options})
        return (
            f"<!doctype html><html><head>{meta}<script>window.fanzRum = {options};</script>"
            '<script src="/rum/fanz-rum.js"></script></head><body><p>creator</p></body></html>'
        )

    def route(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN)
        if path == "/rum/fanz-rum.js":
            route.fulfill(body=load_script(), content_type="text/javascript")
        elif path.startswith("/api/v1/analytics"):
            route.fulfill(status=204)
        elif path.startswith("/api/"):
            header = request.headers.get("traceparent")
            found = HEADER.fullmatch(header or "")
            if found is None:
                self.untraced.append(path)
            else:
                self.calls.append(Call(path, *found.groups()))
            route.fulfill(status=200, body="{}", content_type="application/json")
        else:
            route.fulfill(status=200, body=self.page_html(), content_type="text/html")

    def traces(self) -> list[str]:
        return [c.trace_id for c in self.calls]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, f"--user-agent={CHROME_UA}"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context()
    try:
        yield ctx
    finally:
        ctx.close()


def _open(context: BrowserContext, app: App, path: str = "/creator/1") -> Page:
    context.route(f"{ORIGIN}/**", app.route)
    page = context.new_page()
    page.goto(ORIGIN + path, wait_until="load")
    return page


FETCH = "async (path) => { await fetch(path); }"
XHR = """(path) => new Promise((done) => {
  const x = new XMLHttpRequest(); x.open('GET', path); x.onloadend = () => done(); x.send();
})"""
GO = "(path) => history.pushState({}, '', path)"
BACK = "() => new Promise((done) => { addEventListener('popstate', () => done(), {once: true}); history.back(); })"


def test_each_page_view_is_its_own_trace(context: BrowserContext) -> None:
    app = App()
    page = _open(context, app)
    page.evaluate(FETCH, "/api/feed")
    page.evaluate(XHR, "/api/likes")
    page.evaluate(FETCH, "/api/feed?page=2")
    page.evaluate(GO, "/creator/2")  # an SPA route change: a new view
    page.evaluate(FETCH, "/api/profile")
    page.evaluate(GO, "/creator/2?tab=photos#top")  # the same path: the same view
    page.evaluate(FETCH, "/api/photos")
    page.evaluate(GO, "/creator/3")
    page.evaluate(FETCH, "/api/profile3")
    page.evaluate(BACK)  # back to /creator/2: another view
    page.evaluate(FETCH, "/api/profile-again")
    page.reload(wait_until="load")  # a new document
    page.evaluate(FETCH, "/api/after-reload")

    assert [c.path for c in app.calls] == [
        "/api/feed",
        "/api/likes",
        "/api/feed?page=2",
        "/api/profile",
        "/api/photos",
        "/api/profile3",
        "/api/profile-again",
        "/api/after-reload",
    ]
    t = app.traces()
    assert t[0] == t[1] == t[2]  # one view: fetch and XHR in one trace
    assert t[3] == t[4]
    assert len({t[0], t[3], t[5], t[6], t[7]}) == 5  # a trace per view
    assert len({c.span_id for c in app.calls}) == len(app.calls)  # a new span id per call
    assert {c.flags for c in app.calls} == {"01"}  # traceSampleRate defaults to 1
    assert app.untraced == []


def test_the_server_rendered_trace_is_the_first_view_only(context: BrowserContext) -> None:
    app = App(meta=f"00-{META_TRACE}-00f067aa0ba902b7-01")
    page = _open(context, app)
    page.evaluate(FETCH, "/api/feed")
    page.evaluate(GO, "/creator/9")
    page.evaluate(FETCH, "/api/profile")
    first, second = app.calls
    assert first.trace_id == META_TRACE and first.span_id != "00f067aa0ba902b7"
    assert second.trace_id != META_TRACE


def test_the_sample_rate_sets_the_sampled_flag_of_each_view(context: BrowserContext) -> None:
    app = App(options={"traceSampleRate": 0})
    page = _open(context, app)
    page.evaluate(FETCH, "/api/feed")
    page.evaluate(GO, "/creator/2")
    page.evaluate(FETCH, "/api/profile")
    assert [c.flags for c in app.calls] == ["00", "00"]  # propagated, not sampled
    assert len(set(app.traces())) == 2


def test_the_servers_sampling_decision_holds_for_its_view(context: BrowserContext) -> None:
    """The page's traceparent says "not sampled": its view keeps that; the next view samples at the rate."""
    app = App(meta=f"00-{META_TRACE}-00f067aa0ba902b7-00", options={"traceSampleRate": 1})
    page = _open(context, app)
    page.evaluate(FETCH, "/api/feed")
    page.evaluate(GO, "/creator/2")
    page.evaluate(FETCH, "/api/profile")
    assert [(c.trace_id == META_TRACE, c.flags) for c in app.calls] == [(True, "00"), (False, "01")]


def test_a_sample_rate_in_between_samples_about_that_share_of_views(context: BrowserContext) -> None:
    app = App(options={"traceSampleRate": 0.5})
    page = _open(context, app)
    for i in range(200):
        page.evaluate(GO, f"/creator/{i + 2}")
        page.evaluate(FETCH, f"/api/p{i}")
    sampled = sum(c.flags == "01" for c in app.calls)
    assert len(set(app.traces())) == 200
    assert 60 <= sampled <= 140  # binomial(200, 0.5): outside this range once in about 10^8 runs


def test_the_sample_rate_can_be_given_as_a_data_attribute(context: BrowserContext) -> None:
    app = App()
    context.route(f"{ORIGIN}/**", app.route)
    page = context.new_page()
    page.route(
        f"{ORIGIN}/data-attr",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            body='<!doctype html><script src="/rum/fanz-rum.js" data-platform="fanz-1" '
            'data-trace-sample-rate="0"></script><p>x</p>',
        ),
    )
    page.goto(f"{ORIGIN}/data-attr", wait_until="load")
    page.evaluate(FETCH, "/api/feed")
    assert [c.flags for c in app.calls] == ["00"]
