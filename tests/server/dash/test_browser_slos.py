"""The SLOs page in real Chromium over a real Prometheus evaluating the generated SLO rules.

Prometheus holds the synthetic history of the other browser tests (``synthetic.py``: three
platforms, fanz-3 failing payments and requests in its last 20 minutes) plus what the SLOs
need beyond it: payouts, renewals, landing-page probes and a second RUM page template
whose LCP is poor on fanz-2. Every built-in SLO's rules are backfilled over the last four
hours (``promtool tsdb create-blocks-from rules``, one pass per level of rules reading
other rules' series, since promtool cannot chain them in one pass) and evaluated live, so
the burn-down charts have a history. The test reads the page as a user sees it: every SLO
row with an SLI, budget left, money where priced, burn rates; a burn-down chart drawn per
SLO; the performance budgets' grids; no JavaScript errors.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from fanzwatch.core.catalog import business, http, rum
from fanzwatch.provisioning.definitions.slos import PPV_ROUTE, SLOS
from fanzwatch.provisioning.slo_rules import slo_rule_group
from fanzwatch.server.dash import DashSources, HttpPrometheus, build_dash_router
from fanzwatch.settings.dash import DashSettings

from .._auth import authenticator, secure
from .stack import RUNBOOKS, _prometheus, _promtool, free_port, serving, wait_for
from .synthetic import PLATFORMS, STEP, Grid, _counter, _histogram, _lines, write_openmetrics
from .test_browser import ARTIFACTS, CHROMIUM_ARGS, READY

# Building the stack (history, three backfill passes, the first live evaluation) takes
# 30 s here and several minutes on a loaded machine: more than the suite's default 300 s.
pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(900)]

BACKFILL = 4 * 3600
# Under Prometheus's 5-minute lookback: with samples 10 minutes apart, a range query whose
# steps fall in the second half of each gap found none (half the runs drew an empty chart).
BACKFILL_STEP = 240
SLOW_PAGE = "/"  # fanz-2's second template: LCP median 3.5 s, most views over the 2.5 s budget


def _extra_lines(end: float) -> Iterator[str]:
    """Payouts, renewals, probes, pay-per-view purchases and a second RUM template, over the recent 26 hours."""
    grid = Grid.ending(end)
    t = grid.t[grid.t >= end - 26 * 3600]
    rng = np.random.default_rng(19)
    for platform, scale in PLATFORMS.items():
        p = {"platform": platform, "currency": "USD"}
        incident = (t > end - 20 * 60) & (platform == "fanz-3")
        payouts = f"{business.CREATOR_PAYOUTS.name}_total"
        yield from _lines(payouts, {**p, "status": "on_time"}, t, _counter(rng, np.full(t.size, 0.05 * scale)))
        yield from _lines(payouts, {**p, "status": "late"}, t, _counter(rng, np.full(t.size, 0.0002)))
        renewals = f"{business.SUBSCRIPTION_RENEWALS.name}_total"
        failed = np.where(incident, 0.2, 0.001)
        yield from _lines(renewals, {**p, "status": "completed"}, t, _counter(rng, 0.1 * scale * (1 - failed)))
        yield from _lines(renewals, {**p, "status": "failed"}, t, _counter(rng, 0.1 * scale * failed))
        success = np.where(incident, 0.0, 1.0)
        yield from _lines("probe_success", {"platform": platform, "probe": "platform-page"}, t, success)
        dur = http.HTTP_SERVER_REQUEST_DURATION
        ppv = {
            "platform": platform,
            "http_request_method": "POST",
            "http_route": PPV_ROUTE,
            "http_response_status_code": "201",
            "status_class": "2xx",
        }
        unlock = np.full(t.size, 0.4)
        yield from _histogram(dur.name, ppv, t, _counter(rng, np.full(t.size, 0.05 * scale)), unlock, dur.buckets or ())
        views = _counter(rng, np.full(t.size, 0.3 * scale))
        median = 3.5 if platform == "fanz-2" else 1.2
        labels = {"platform": platform, "page_template": SLOW_PAGE, "device_class": "desktop"}
        for spec in (rum.RUM_LCP, rum.RUM_INP, rum.RUM_PAGE_LOAD):
            m = median if spec is not rum.RUM_INP else 0.1
            yield from _histogram(spec.name, labels, t, views, np.full(t.size, m), spec.buckets or ())


def _write_history(path: Path, end: float) -> None:
    write_openmetrics(path, end)
    families: dict[str, list[str]] = {}
    for line in _extra_lines(end):
        name = line.split("{", 1)[0]
        families.setdefault(name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum"), []).append(line)
    body = path.read_text().removesuffix("# EOF\n")
    body += "\n".join(line for group in families.values() for line in group) + "\n# EOF\n"
    # Bucket bounds as prometheus_client writes them (le="1.0", not "1"), which the latency
    # SLIs select: a bucket written otherwise is missing, and its SLI would read 100 % good.
    path.write_text(re.sub(r'le="(\d+)"', r'le="\1.0"', body))


def _levels(groups: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The recording rules in passes: a rule reading another rule's series comes after it."""
    rules = [r for g in groups for r in g["rules"] if "record" in r]
    names = {r["record"] for r in rules}
    reads = [
        {n for n in names if n != r["record"] and re.search(rf"(?<![\w:]){re.escape(n)}(?![\w:])", r["expr"])}
        for r in rules
    ]
    level: dict[str, int] = {}
    while len(level) < len(names):
        before = len(level)
        for rule, needs in zip(rules, reads, strict=True):
            if rule["record"] not in level and needs <= set(level):
                level[rule["record"]] = 1 + max((level[n] for n in needs), default=-1)
        assert len(level) > before, "the SLO rules read each other in a cycle"
    passes: list[list[dict[str, Any]]] = [[] for _ in range(max(level.values()) + 1)]
    for rule in rules:
        passes[level[rule["record"]]].append(rule)
    return passes


@dataclass
class SloStack:
    url: str
    prometheus_url: str
    slo_ids: list[str]


@pytest.fixture(scope="module")
def slo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SloStack]:
    work = tmp_path_factory.mktemp("slo-stack")
    # The history ends now: Prometheus refuses live samples older than its newest block, so
    # it cannot run ahead. Building the stack takes minutes, so the 5-minute windows are
    # empty by the time the page loads (their burn reads "–"); the 30-minute ones are not.
    end = (time.time() // STEP) * STEP
    _write_history(work / "history.om", end)
    _promtool(
        "create-blocks-from",
        "openmetrics",
        "-q",
        "--max-block-duration=48h",
        str(work / "history.om"),
        str(work / "tsdb"),
    )
    defined = SLOS
    groups = [slo_rule_group(s).to_dict(runbook_base_url=RUNBOOKS) for s in defined]
    port = free_port()
    for n, rules in enumerate(_levels(groups)):
        path = work / f"backfill-{n}.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": f"backfill-{n}", "rules": rules}]}, sort_keys=False))
        first = _prometheus(work, port, rules=None, alertmanager=None)
        first.start()
        try:
            _promtool(
                "create-blocks-from",
                "rules",
                "-q",
                f"--url={first.url}",
                f"--start={int(end - BACKFILL)}",
                f"--end={int(end)}",
                f"--eval-interval={BACKFILL_STEP}s",
                f"--output-dir={work / 'tsdb'}",
                str(path),
            )
        finally:
            first.stop()
    live = work / "slos.yml"
    live.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    prom = _prometheus(work, port, rules=live, alertmanager=None)
    prom.start()
    settings = DashSettings(prometheus_url=prom.url, scrape_interval_seconds=STEP)
    sources = DashSources()

    def evaluated() -> bool:
        # Every SLO's group evaluated live at least once: the last backfilled sample can be
        # older than the 5-minute lookback by the time the page loads.
        rule_groups = httpx.get(f"{prom.url}/api/v1/rules").json()["data"]["groups"]
        if len(rule_groups) != len(groups) or any(g["lastEvaluation"].startswith("0001-") for g in rule_groups):
            return False
        # and the backfilled history is queryable for every SLO (a block not loaded yet drew an empty chart)
        now = time.time()
        history = httpx.get(
            f"{prom.url}/api/v1/query_range",
            params={
                "query": "count by (sloth_id) (slo:period_error_budget_remaining:ratio)",
                "start": now - 6 * 3600,
                "end": now,
                "step": 600,
            },
        ).json()["data"]["result"]
        now_ids = {
            r["metric"].get("sloth_id")
            for r in httpx.get(
                f"{prom.url}/api/v1/query",
                params={"query": "count by (sloth_id) (slo:period_error_budget_remaining:ratio)"},
            ).json()["data"]["result"]
        }
        drawn = {r["metric"].get("sloth_id") for r in history if len(r["values"]) >= 10}
        return now_ids <= drawn

    try:
        wait_for("the SLO rules' first evaluation", evaluated, 120, interval=1)

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            async with httpx.AsyncClient(timeout=30) as client:
                sources.prometheus = HttpPrometheus(client, prom.url)
                yield

        app = FastAPI(lifespan=lifespan)
        auth = authenticator(open_loopback=True)
        app.include_router(build_dash_router(lambda: sources, settings, platforms=tuple(PLATFORMS), auth=auth))
        secure(app, auth)
        with serving(app) as url:
            yield SloStack(url, prom.url, [s.id for s in defined])
    finally:
        prom.stop()


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1000})
            yield context.new_page()
        finally:
            browser.close()


ROWS = """() => [...document.querySelectorAll('tr[data-slo]')].map(tr => {
  const cells = {};
  tr.querySelectorAll('td[data-cell]').forEach(td => { cells[td.dataset.cell] = td.innerText.trim(); });
  return {slo: tr.dataset.slo, platform: tr.dataset.platform, status: tr.dataset.status, cells};
})"""
CHARTS = """() => [...document.querySelectorAll('#burndown-h ~ .grid figure[data-chart]')].map(f => {
  const data = JSON.parse(f.querySelector('script[type="application/json"]').textContent);
  const canvas = f.querySelector('canvas');
  return {title: data.title, drawn: f.dataset.drawn, lines: data.series.length,
          points: data.series.map(s => s.values.filter(v => v !== null).length),
          width: canvas ? canvas.width : 0};
})"""
BUDGETS = """() => [...document.querySelectorAll('[data-budget]')].map(a => ({
  budget: a.dataset.budget,
  cells: [...a.querySelectorAll('td[data-status]')].map(td => ({
    template: td.closest('tr').dataset.template, platform: td.dataset.platform, status: td.dataset.status,
    sli: td.querySelector('[data-cell=sli]').innerText, left: td.querySelector('[data-cell=remaining]').innerText,
    burns: [...td.querySelectorAll('[data-cell^=burn-]')].map(s => s.innerText)})),
}))"""
PERCENT = re.compile(r"^-?[\d,]+(\.\d+)?%$")
BURN = re.compile(r"^\d+\.\d\d×$")
MONEY = re.compile(r"-?[\d,]+\.\d\d (USD|EUR) of [\d,]+\.\d\d \1 allowed; [\d,]+\.\d\d \1 failed")


def test_every_slo_row_shows_its_sli_budget_money_and_burn_rates(slo_stack: SloStack, page: Page) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{slo_stack.url}/dash/slos?range=24h", wait_until="load", timeout=180000)
    page.wait_for_function(READY, timeout=60000)
    rows: list[dict[str, Any]] = page.evaluate(ROWS)

    # Every SLO that is not a per-template budget has a row per platform.
    # (The journey SLO reads the journey prober's quorum record, which this history has not.)
    table_ids = [
        i for i in slo_stack.slo_ids if not i.startswith("web-performance-") and i != "payments-journey-availability"
    ]
    assert sorted({r["slo"] for r in rows}) == sorted(table_ids)
    assert {(r["slo"], r["platform"]) for r in rows} == {(i, p) for i in table_ids for p in PLATFORMS}
    for r in rows:
        cells = r["cells"]
        assert PERCENT.match(cells["sli"]) and PERCENT.match(cells["remaining"]), r
        assert BURN.match(cells["burn-5m"]) or cells["burn-5m"] == "–", r
        for w in ("30m", "1h", "6h", "3d"):
            assert BURN.match(cells[f"burn-{w}"]), (w, r)
        if r["slo"] in ("payments-checkout-success", "payments-subscription-renewal-success"):
            assert MONEY.search(cells["money"]), r  # priced in money, per currency
        else:
            assert cells["money"] == "–", r
    by_key = {(r["slo"], r["platform"]): r for r in rows}

    # fanz-3's payments fail (25 %, 50x the 0.5 % budget) in the history's last 20 minutes,
    # fanz-1's at their usual 2 % (4x).
    def burn(slo: str, platform: str, window: str) -> float:
        return float(by_key[(slo, platform)]["cells"][f"burn-{window}"].rstrip("×"))

    assert (
        burn("payments-checkout-success", "fanz-3", "30m") > 14.4 > burn("payments-checkout-success", "fanz-1", "30m")
    )
    assert by_key[("payments-checkout-success", "fanz-3")]["status"] == "fail"
    # The page lists the worst first.
    statuses = [r["status"] for r in rows]
    assert statuses == sorted(statuses, key=["fail", "warn", "pass"].index)

    # One burn-down chart per SLO of the table, drawn, one line per platform with the backfilled history.
    charts: list[dict[str, Any]] = page.evaluate(CHARTS)
    assert sorted(c["title"] for c in charts) == sorted(f"{i}: error budget left" for i in table_ids)
    for c in charts:
        assert c["drawn"] == "true" and c["width"] > 0, c
        # A history, not a lone point: the backfill put one value every 10 minutes in the last 4 hours.
        assert c["lines"] == len(PLATFORMS) and min(c["points"]) >= 10, c
    assert errors == []


def test_the_performance_budgets_show_each_template_against_its_budget(slo_stack: SloStack, page: Page) -> None:
    page.goto(f"{slo_stack.url}/dash/slos?range=24h", wait_until="load", timeout=180000)
    page.wait_for_function(READY, timeout=60000)
    budgets = {b["budget"]: b["cells"] for b in page.evaluate(BUDGETS)}
    assert list(budgets) == [
        "web-performance-lcp-budget",
        "web-performance-inp-budget",
        "web-performance-page-load-p95-budget",
        "fanz-platform-api-latency",
    ]
    lcp = {(c["template"], c["platform"]): c for c in budgets["web-performance-lcp-budget"]}
    assert set(lcp) == {(t, p) for t in ("/", "/creator/:id") for p in PLATFORMS}
    for c in lcp.values():
        assert PERCENT.match(c["sli"]) and PERCENT.match(c["left"]) and len(c["burns"]) == 4, c
    # fanz-2's / has a median LCP of 3.5 s: 29 % of views within 2.5 s, far below 75 % good;
    # fanz-1's median is 1.2 s: 89 % good (a lognormal, sigma 0.6).
    assert lcp[("/", "fanz-2")]["status"] == "fail"
    assert float(lcp[("/", "fanz-2")]["sli"].rstrip("%")) < 40
    assert lcp[("/", "fanz-1")]["status"] == "pass"
    assert float(lcp[("/", "fanz-1")]["sli"].rstrip("%")) > 80
    # Its page load (same median) is over 3 s for 60 % of views; fanz-1's for 6 %, which
    # still misses the p95 budget (94 % within 3 s): both fail, far apart.
    load = {(c["template"], c["platform"]): c for c in budgets["web-performance-page-load-p95-budget"]}
    assert load[("/", "fanz-2")]["status"] == "fail" and float(load[("/", "fanz-2")]["sli"].rstrip("%")) < 50
    assert 90 < float(load[("/", "fanz-1")]["sli"].rstrip("%")) < 95
    api = budgets["fanz-platform-api-latency"]
    assert {(c["template"], c["platform"]) for c in api} == {("API requests (all routes)", p) for p in PLATFORMS}


def test_screenshots_of_the_slos_page(slo_stack: SloStack, page: Page) -> None:
    page.goto(f"{slo_stack.url}/dash/slos?range=24h", wait_until="load", timeout=180000)
    page.wait_for_function(READY, timeout=60000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "slos.png"), full_page=True)
    section = page.locator("#performance-budgets")
    section.screenshot(path=str(ARTIFACTS / "slos-performance-budgets.png"))
    assert (ARTIFACTS / "slos.png").stat().st_size > 10_000
