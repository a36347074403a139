"""FanzDash in real headless Chromium against a running stack (see ``stack.py``).

Every page loads with no console errors and its charts draw with data; the platform
and time pickers change what is shown; a silence created in the UI appears in the real
Alertmanager and expiring it there works too. Screenshots of each page are saved to
``test-artifacts/fanzdash/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from .stack import DashStack, running_stack, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Per page load (measured: 3 and at most 10): the document, its script and style; FanzDash's
# queries to Prometheus and Alertmanager. A query per platform or per series would exceed it.
MAX_BROWSER_REQUESTS = 6
MAX_SERVER_REQUESTS = 25
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "fanzdash"

# (screenshot name, path, charts that must draw with data at least)
PAGES = [
    ("overview", "/dash/", 4),
    ("dashboards", "/dash/dashboards", 0),
    ("dashboard-core", "/dash/dashboards/fanz-core", 6),
    ("dashboard-business", "/dash/dashboards/fanz-business", 5),
    ("alerts", "/dash/alerts", 0),
    ("anomalies", "/dash/anomalies?metric=error_ratio", 3),
    ("anomaly-analysis", "/dash/anomalies/analysis?metric=active_users&platform=fanz-1&days=1&hours=6", 1),
    ("rum", "/dash/rum", 5),
    ("bi", "/dash/bi?window=7d", 1),
    ("health", "/dash/health", 4),
    ("incidents", "/dash/incidents", 0),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashStack]:
    with running_stack(tmp_path_factory.mktemp("fanzdash-stack")) as s:
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Tab:
    page: Page
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    tab = Tab(page)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            tab.errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()


def charts(page: Page) -> list[dict[str, Any]]:
    """Every chart on the page: whether it drew, its point count and its payload."""
    raw = page.eval_on_selector_all(
        "figure[data-chart]",
        """els => els.map(f => ({drawn: f.dataset.drawn === 'true', points: Number(f.dataset.points || 0),
            canvases: f.querySelectorAll('canvas').length,
            data: JSON.parse(f.querySelector('script[type="application/json"]').textContent)}))""",
    )
    assert isinstance(raw, list)
    return raw


READY = """() =>
    [...document.querySelectorAll('[data-fragment]')].every(s => s.dataset.loading && !s.hasAttribute('aria-busy'))
    && [...document.querySelectorAll('figure[data-chart]')].every(f => f.dataset.drawn === 'true')"""


CLIPPED = """els => els.filter(f => f.fanzdash && f.fanzdash.plot.scales.x).map(f => {
    const {plot, labels} = f.fanzdash;
    const data = JSON.parse(f.querySelector('script[type="application/json"]').textContent);
    return {title: data.title, range: data.range, min: plot.scales.x.min, max: plot.scales.x.max,
            outside: labels().filter(b => b.left < 0 || b.right > plot.width)};
})"""


def open_page(tab: Tab, url: str) -> None:
    """Load ``url`` and wait until sections loaded on demand are in and every chart is drawn."""
    tab.page.goto(url, wait_until="load")
    tab.page.wait_for_function(READY, timeout=30000)


@pytest.mark.parametrize(("name", "path", "min_charts"), PAGES, ids=[p[0] for p in PAGES])
def test_page_loads_without_errors_and_draws_its_charts(
    stack: DashStack, tab: Tab, name: str, path: str, min_charts: int
) -> None:
    open_page(tab, stack.url + path)
    assert tab.page.title().endswith("· FanzDash")
    found = charts(tab.page)
    with_data = [c for c in found if c["drawn"] and c["points"] > 0 and c["canvases"] >= 1]
    assert len(with_data) >= min_charts, [(c["data"]["title"], c["points"]) for c in found]
    assert all(c["drawn"] for c in found)
    # No time label runs off its chart, and the axis is the range picked where there is one.
    for drawn in tab.page.eval_on_selector_all("figure[data-chart]", CLIPPED):
        assert drawn["outside"] == [], drawn
        if drawn["range"] is not None:
            assert (drawn["min"], drawn["max"]) == tuple(drawn["range"]), drawn
    # Landmarks and the skip link every page has.
    assert tab.page.locator("nav[aria-label=Main] a[aria-current=page]").count() == (0 if name == "login" else 1)
    assert tab.page.locator("main#content h1").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert tab.errors == []


def test_each_page_load_costs_a_bounded_number_of_requests(stack: DashStack, tab: Tab) -> None:
    """What a page costs, counted: the browser's requests and the server's queries per load.

    Five loads of each main page, each within a fixed budget, fetching nothing twice. The load
    times are written to ``timings.json`` for reading, not asserted: the machine is shared, and
    a test never asserts wall-clock time.
    """
    browser: list[str] = []
    tab.page.on("request", lambda request: browser.append(request.url))
    timings: dict[str, list[float]] = {}
    costs: dict[str, list[tuple[int, int]]] = {}
    for name, path, _ in PAGES:
        if "analysis" in path:
            continue  # on demand: reads days of history by design
        if name == "anomalies":
            path = "/dash/anomalies"  # without a signal: no on-demand analysis section
        for _ in range(5):
            browser.clear()
            server_before = len(stack.dash_requests)
            open_page(tab, stack.url + path)
            server = stack.dash_requests[server_before:]
            timings.setdefault(name, []).append(round(float(tab.page.evaluate("performance.now()")), 1))
            costs.setdefault(name, []).append((len(browser), len(server)))
            repeated = sorted({url for url in browser if browser.count(url) > 1})
            assert repeated == [], f"{name}: the browser fetched these more than once in one load: {repeated}"
            assert len(browser) <= MAX_BROWSER_REQUESTS, f"{name}: {browser}"
            assert len(server) <= MAX_SERVER_REQUESTS, f"{name}: {len(server)} queries: {server}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(json.dumps({"load_ms": timings, "requests": costs}, indent=1))
    assert tab.errors == []


def test_platform_picker_changes_what_is_shown(stack: DashStack, tab: Tab) -> None:
    open_page(tab, stack.url + "/dash/dashboards/fanz-core")
    before = {c["data"]["title"]: c["data"] for c in charts(tab.page)}
    labels = {s["label"] for s in before["Response time p95 / p50"]["series"]}
    assert {"p95 fanz-1", "p95 fanz-2", "p95 fanz-3"} <= labels

    with tab.page.expect_navigation():
        tab.page.get_by_label("Platform").select_option("fanz-2")  # applies on change
    assert "platform=fanz-2" in tab.page.url
    tab.page.wait_for_function(READY)
    after = {c["data"]["title"]: c["data"] for c in charts(tab.page)}
    assert {s["label"] for s in after["Response time p95 / p50"]["series"]} == {"p95 fanz-2", "p50 fanz-2"}
    assert tab.page.get_by_label("Platform").input_value() == "fanz-2"
    assert tab.errors == []


def test_time_picker_changes_the_range_drawn(stack: DashStack, tab: Tab) -> None:
    open_page(tab, stack.url + "/dash/dashboards/fanz-business")
    six_hours = next(c["data"] for c in charts(tab.page) if c["data"]["title"] == "Revenue per hour")
    assert 6 * 3600 - 240 <= six_hours["x"][-1] - six_hours["x"][0] <= 6 * 3600

    with tab.page.expect_navigation():
        tab.page.get_by_label("Time range").select_option("1h")
    tab.page.wait_for_function(READY)
    one_hour = next(c["data"] for c in charts(tab.page) if c["data"]["title"] == "Revenue per hour")
    assert 3600 - 240 <= one_hour["x"][-1] - one_hour["x"][0] <= 3600
    assert len(one_hour["x"]) < len(six_hours["x"])
    assert tab.errors == []


def _silences(stack: DashStack) -> list[dict[str, Any]]:
    answer = httpx.get(f"{stack.alertmanager_url}/api/v2/silences", timeout=5)
    answer.raise_for_status()
    return list(answer.json())


def _alert_state(stack: DashStack, name: str, platform: str) -> str:
    alerts = httpx.get(f"{stack.alertmanager_url}/api/v2/alerts", timeout=5).json()
    found = [a for a in alerts if a["labels"]["alertname"] == name and a["labels"].get("platform") == platform]
    assert len(found) == 1, json.dumps(alerts)[:2000]
    return str(found[0]["status"]["state"])


def test_a_silence_created_in_the_ui_reaches_alertmanager_and_can_be_expired(stack: DashStack, tab: Tab) -> None:
    page = tab.page
    open_page(tab, stack.url + "/dash/alerts")
    runbook = page.get_by_role("link", name="Runbook for PaymentFailureRate on fanz-3", exact=True)
    assert runbook.get_attribute("href") == (
        "https://github.com/fanz/fanzwatch/blob/main/docs/runbooks/PaymentFailureRate.md"
    )
    page.get_by_role("link", name="Silence PaymentFailureRate on fanz-3", exact=True).click()
    matchers = page.get_by_label("Matchers")
    assert 'alertname="PaymentFailureRate"' in matchers.input_value()
    assert 'platform="fanz-3"' in matchers.input_value()
    page.get_by_label("Duration").select_option("2h")
    page.get_by_label("Created by").fill("on-call (browser test)")
    with page.expect_navigation():
        page.get_by_role("button", name="Create silence").click()
    assert page.locator(".notice-success").inner_text().startswith("Silence ")

    created = [s for s in _silences(stack) if s["createdBy"] == "on-call (browser test)"]
    assert len(created) == 1
    silence = created[0]
    assert silence["status"]["state"] == "active"
    assert {"name": "alertname", "value": "PaymentFailureRate", "isRegex": False, "isEqual": True} in silence[
        "matchers"
    ]
    wait_for(
        "the alert to be silenced", lambda: _alert_state(stack, "PaymentFailureRate", "fanz-3") == "suppressed", 10
    )

    page.reload()
    silenced_row = page.locator(f"tr[data-silence-id='{silence['id']}']")
    assert silenced_row.count() == 1
    with page.expect_navigation():
        silenced_row.get_by_role("button", name=f"Expire silence {silence['id']}").click()
    assert "expired" in page.locator(".notice-success").inner_text()
    assert next(s for s in _silences(stack) if s["id"] == silence["id"])["status"]["state"] == "expired"
    assert tab.errors == []


def test_keyboard_reaches_the_content_through_the_skip_link(stack: DashStack, tab: Tab) -> None:
    open_page(tab, stack.url + "/dash/health")
    tab.page.keyboard.press("Tab")
    assert tab.page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab.page.keyboard.press("Enter")
    assert tab.page.evaluate("document.activeElement.id") == "content"
    assert tab.errors == []
