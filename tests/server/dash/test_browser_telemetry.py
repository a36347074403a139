"""Traces and logs in real Chromium on the real server (``create_app`` under uvicorn, a real
chDB store of real OpenTelemetry SDK spans and logs): search → waterfall → a span's
details → its logs → back to the span; the logs page's live tail picks up a record
written while it runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.anomaly import AnomalySettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.settings.dash import DashSettings
from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore, unix_nano_text
from fanzwatch.telemetry.reader import EmbeddedQueries, TelemetryReader
from telemetry._flow import ROUTE, Flow, payment_flow

from .._auth import TOKENS
from .stack import serving
from .test_browser import ARTIFACTS, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass
class Served:
    url: str
    flow: Flow
    store: ChdbTelemetryStore


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    flow = payment_flow()
    store = ChdbTelemetryStore(tmp_path_factory.mktemp("browser-store") / "telemetry")
    try:
        store.insert(TRACES_TABLE, flow.spans)
        store.insert(LOGS_TABLE, flow.logs)
        settings = ServerSettings(
            data_dir=tmp_path_factory.mktemp("telemetry-browser"),
            platforms=("fanz-1", "fanz-2"),
            auth=AuthSettings(**{f"{r}_token": t for r, t in TOKENS.items()}),
            anomaly=AnomalySettings(enabled=False),
            dash=DashSettings(prometheus_url="", alertmanager_url=""),
        )
        with serving(create_app(settings, telemetry_reader=TelemetryReader(EmbeddedQueries(store)))) as url:
            yield Served(url, flow, store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser, served: Served) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(f"{served.url}/dash/login?next=/dash/traces")
    tab.get_by_label("Token").fill(TOKENS["viewer"])
    with tab.expect_navigation():
        tab.get_by_role("button", name="Sign in").click()
    try:
        yield tab
    finally:
        context.close()
    assert errors == []


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_waterfall_span_details_and_logs_both_ways(served: Served, page: Page) -> None:
    flow = served.flow
    page.goto(f"{served.url}/dash/traces?route={quote(ROUTE)}&min_duration=1s&range=1h&order=slowest")
    rows = page.locator("table[data-traces] tbody tr")
    expect(rows).to_have_count(2)  # the slow purchase on fanz-1 and the one on fanz-2
    assert rows.nth(0).get_attribute("data-trace-id") == flow.other_platform_trace
    _shot(page, "traces-search")
    page.locator(f'tr[data-trace-id="{flow.slow_trace}"] a[href="/dash/traces/{flow.slow_trace}"]').click()
    expect(page.locator("h1")).to_have_text("Trace POST " + ROUTE)
    spans = page.locator("details.wf-row")
    expect(spans).to_have_count(3)
    assert [spans.nth(i).get_attribute("data-depth") for i in range(3)] == ["0", "1", "2"]
    # Bars are laid out by start and duration: the fraud check starts right after the root
    # and lasts 1.9 s of the 2.4 s trace.
    root_bar = spans.nth(0).locator(".wf-bar").bounding_box()
    check_bar = spans.nth(2).locator(".wf-bar").bounding_box()
    assert root_bar and check_bar
    assert check_bar["width"] / root_bar["width"] == pytest.approx(1900 / 2400, abs=0.01)
    assert check_bar["x"] >= root_bar["x"]
    check = spans.nth(2)
    check.locator("> summary").click()
    expect(check.locator(".wf-detail")).to_be_visible()
    expect(check.locator('tr[data-event="fraud.scored"]')).to_contain_text("fraud.score=0.93")
    expect(check.locator(".wf-detail")).to_contain_text("fraud score over threshold")
    _shot(page, "trace-waterfall")
    span_id = check.get_attribute("data-span-id")
    check.get_by_role("link", name="logs of this span").click()
    expect(page.locator("h1")).to_have_text("Logs")
    logs = page.locator("tbody[data-log-rows] tr")
    expect(logs).to_have_count(1)
    expect(logs.first).to_contain_text("payment declined: fraud score 0.93 over 0.9")
    # And back: the record's trace link opens the trace at its span, details open.
    logs.first.get_by_role("link").click()
    page.wait_for_url(f"**/dash/traces/{flow.slow_trace}#span-{span_id}")
    expect(page.locator(f"details#span-{span_id}")).to_have_attribute("open", "")
    expect(page.locator(f"details#span-{span_id} .wf-detail")).to_be_in_viewport()


def test_log_search_and_live_tail(served: Served, page: Page) -> None:
    page.goto(f"{served.url}/dash/logs?q=declined&range=1h")
    rows = page.locator("tbody[data-log-rows] tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("purchase failed: processor declined payment")
    expect(rows.nth(1)).to_contain_text("payment declined: fraud score 0.93")
    toggle = page.get_by_role("button", name="Start live tail")
    toggle.click()
    expect(page.get_by_role("button", name="Stop live tail")).to_have_attribute("aria-pressed", "true")
    now = time.time_ns()
    record = {
        "Timestamp": unix_nano_text(now),
        "TraceId": served.flow.slow_trace,
        "SpanId": "",
        "TraceFlags": 1,
        "SeverityText": "ERROR",
        "SeverityNumber": 17,
        "ServiceName": "payment-processor",
        "Body": "payment declined again: card issuer offline",
        "ResourceSchemaUrl": "",
        "ResourceAttributes": {"fanz.platform": "fanz-2"},
        "ScopeSchemaUrl": "",
        "ScopeName": "",
        "ScopeVersion": "",
        "ScopeAttributes": {},
        "LogAttributes": {},
        "EventName": "",
    }
    ignored = {**record, "Body": "payment settled", "Timestamp": unix_nano_text(now + 1)}  # not "declined"
    served.store.insert(LOGS_TABLE, [record, ignored])
    expect(rows).to_have_count(3, timeout=20_000)
    expect(rows.nth(0)).to_contain_text("payment declined again: card issuer offline")
    expect(rows.nth(0)).to_have_class("tail-new")
    expect(page.locator("[data-tail-status]")).to_contain_text("1 new record")
    _shot(page, "logs-tail")
    page.get_by_role("button", name="Stop live tail").click()
    expect(page.get_by_role("button", name="Start live tail")).to_be_visible()
