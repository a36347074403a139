"""Charts in real Chromium over a real Prometheus that holds one sample: the first minute of
a new stack. The time axis is the range picked (not years around the point), the lone point
is painted as a dot, and no time label runs off the chart."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from fanzwatch.core.catalog import business
from fanzwatch.server.dash import DashSources, HttpPrometheus, build_dash_router
from fanzwatch.settings.dash import DashSettings

from .._auth import authenticator, secure
from .stack import _prometheus, _promtool, free_port, serving
from .test_browser import CHROMIUM_ARGS, READY

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, pytest.mark.slow]

ALIGN = 1800.0  # the 7d step: a sample 150 s before a multiple of it is one point at every step >= 300 s
LONE_VALUE = 42.0
SERIES_BLUE = (0x00, 0x72, 0xB2)  # the first colour of the palette (charts.ts)


@dataclass
class OnePointStack:
    url: str
    sample_at: float


@pytest.fixture(scope="module")
def one_point(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnePointStack]:
    work = tmp_path_factory.mktemp("one-point")
    sample_at = math.floor(time.time() / ALIGN) * ALIGN - 2 * ALIGN - 150
    metric = business.ACTIVE_USERS.name
    (work / "one.om").write_text(
        f'# TYPE {metric} gauge\n{metric}{{platform="fanz-1"}} {LONE_VALUE} {sample_at:.0f}\n# EOF\n'
    )
    _promtool("create-blocks-from", "openmetrics", "-q", str(work / "one.om"), str(work / "tsdb"))
    prom = _prometheus(work, free_port(), rules=None, alertmanager=None)
    prom.start()
    settings = DashSettings(prometheus_url=prom.url, scrape_interval_seconds=15)
    sources = DashSources()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10) as http:
            sources.prometheus = HttpPrometheus(http, prom.url)
            yield

    app = FastAPI(lifespan=lifespan)
    auth = authenticator(open_loopback=True)
    app.include_router(build_dash_router(lambda: sources, settings, platforms=("fanz-1", "fanz-2"), auth=auth))
    secure(app, auth)
    try:
        with serving(app) as url:
            yield OnePointStack(url, sample_at)
    finally:
        prom.stop()


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            yield context.new_page()
        finally:
            browser.close()


DRAWN = """(title) => {
  const f = [...document.querySelectorAll('figure[data-chart]')]
    .find(f => JSON.parse(f.querySelector('script[type="application/json"]').textContent).title === title);
  const {plot, labels} = f.fanzdash;
  const data = JSON.parse(f.querySelector('script[type="application/json"]').textContent);
  const i = data.series[0].values.findIndex(v => v !== null);
  const x = Math.round(plot.valToPos(data.x[i], 'x', true));
  const y = Math.round(plot.valToPos(data.series[0].values[i], 'y', true));
  const px = plot.ctx.getImageData(x - 2, y - 2, 5, 5).data;
  const pixels = [];
  for (let k = 0; k < px.length; k += 4) pixels.push([px[k], px[k + 1], px[k + 2], px[k + 3]]);
  return {range: data.range, x: data.x, min: plot.scales.x.min, max: plot.scales.x.max,
          width: plot.width, labels: labels(), pixels};
}"""


def _near(pixel: list[int], rgb: tuple[int, int, int]) -> bool:
    return pixel[3] > 200 and all(abs(a - b) <= 40 for a, b in zip(pixel[:3], rgb, strict=False))


@pytest.mark.parametrize(("key", "seconds"), [("24h", 86400), ("7d", 604800)])
def test_one_point_is_drawn_as_a_dot_on_the_picked_range(
    one_point: OnePointStack, page: Page, key: str, seconds: int
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{one_point.url}/dash/?range={key}", wait_until="load")
    page.wait_for_function(READY, timeout=30000)
    drawn: dict[str, Any] = page.evaluate(DRAWN, "Active users")

    assert drawn["x"] == [math.ceil(one_point.sample_at / 300) * 300] or len(drawn["x"]) == 1, drawn["x"]
    start, end = drawn["range"]
    assert end - start == seconds and start <= drawn["x"][0] <= end
    # The axis drawn is the range picked: not years around the point, not the point alone.
    assert (drawn["min"], drawn["max"]) == (start, end)
    # The lone point is painted (a dot in the series colour where it lies), not an invisible line.
    assert any(_near(p, SERIES_BLUE) for p in drawn["pixels"]), drawn["pixels"]
    # Time labels: several, each whole inside the chart.
    assert len(drawn["labels"]) >= 3, drawn["labels"]
    for box in drawn["labels"]:
        assert box["left"] >= 0 and box["right"] <= drawn["width"], box
    assert errors == []


def test_screenshot_of_the_first_minute(one_point: OnePointStack, page: Page) -> None:
    page.goto(f"{one_point.url}/dash/?range=24h", wait_until="load")
    page.wait_for_function(READY, timeout=30000)
    out = Path(__file__).resolve().parents[3] / "test-artifacts" / "fanzdash"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "overview-one-point.png"), full_page=True)
    assert page.locator("figure[data-chart][data-drawn=true]").count() >= 1
