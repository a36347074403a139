"""Real browser sessions on the demo platform: headless Chromium loading its pages, so
``fanz-rum.js`` sends real beacons (web vitals, page loads, interactions) to the server.

Headless Chromium says ``HeadlessChrome`` in its user agent and the server drops such
beacons as bots: rightly, for everyone else's. These sessions are let in by the RUM
ingestion's *synthetic key* instead (``FANZWATCH_RUM_SYNTHETIC_KEY_FILE``): the browser
context sends ``X-Fanzwatch-Synthetic: <key>`` with its requests (the demo platform sees
it too: it is the demo's own, on loopback, and the key opens nothing but RUM's bot
filter), and nothing about bot detection changes for anyone without the key.

One session: a fresh browser context (new RUM session id), the platform's home page, a
creator's page, a click on Subscribe, a scroll, back home, then the tab is closed. Before
each page is left it goes hidden, as on a tab switch, so its beacons leave while it
lives: a beacon sent during unload is sent after the page's DevTools session is gone,
without the extra header (a Playwright route misses it too), and is dropped as a bot.
Sessions follow each other every ``interval_seconds``, on a random platform, until
``max_sessions`` or ``max_duration_seconds``; then the process exits 0.

>>> run_sessions(BrowserConfig(platform_url="http://127.0.0.1:8300", platforms=("fanz-1",), synthetic_key="..."))
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

logger = logging.getLogger(__name__)
SYNTHETIC_HEADER = "x-fanzwatch-synthetic"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORTS: tuple[ViewportSize, ...] = (
    {"width": 1366, "height": 768},
    {"width": 1920, "height": 1080},
    {"width": 1280, "height": 800},
)


class BrowserUnavailableError(Exception):
    """Chromium or Playwright is not installed: there are no browser sessions to run."""


@dataclass(frozen=True, slots=True)
class BrowserConfig:
    platform_url: str
    platforms: tuple[str, ...]
    synthetic_key: str
    chromium: Path | None = None
    interval_seconds: float = 15.0
    max_sessions: int = 10_000
    max_duration_seconds: float = 12 * 3600.0
    page_timeout_seconds: float = 15.0
    seed: int | None = None


def find_chromium(explicit: Path | None = None) -> Path:
    """The Chromium to drive: ``explicit``, else ``chromium`` (Debian) on PATH."""
    if explicit is not None:
        if not explicit.is_file():
            raise BrowserUnavailableError(f"{explicit} does not exist")
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserUnavailableError("no Chromium on PATH (Debian: apt-get install chromium; or `make system-deps`)")


# What a tab switch does, before each navigation: the page goes hidden and fanz-rum.js
# (web-vitals) reports the final LCP/CLS/INP and flushes while the page is still alive.
_HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def _leave(page: Any) -> None:
    page.evaluate(_HIDE)
    page.wait_for_timeout(300)


def _session(context: Any, config: BrowserConfig, platform: str, rng: random.Random) -> int:
    """One visit; returns the number of pages loaded."""
    page = context.new_page()
    page.set_default_timeout(config.page_timeout_seconds * 1000)
    loaded = 0
    home = f"{config.platform_url.rstrip('/')}/p/{platform}/"
    page.goto(home, wait_until="load")
    loaded += 1
    creators = page.locator('[data-rum="creator-link"]')
    if creators.count():
        link = creators.nth(rng.randrange(creators.count()))
        href = link.get_attribute("href")
        link.hover()
        _leave(page)
        page.goto(f"{config.platform_url.rstrip('/')}{href}" if href else home, wait_until="load")
        loaded += 1
        subscribe = page.locator('[data-rum="subscribe"]')
        if subscribe.count():
            subscribe.first.click()
        page.mouse.wheel(0, rng.randint(200, 1200))
        page.wait_for_timeout(rng.randint(300, 1500))
        _leave(page)
        page.go_back(wait_until="load")
        loaded += 1
    page.wait_for_timeout(rng.randint(300, 1000))
    _leave(page)
    page.close()
    return loaded


def run_sessions(config: BrowserConfig) -> int:
    """Run sessions until the budget is spent; returns how many ran (at least one failure is logged, not raised)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserUnavailableError("Playwright is not installed (pip install 'fanzwatch[demo]')") from None
    chromium = find_chromium(config.chromium)
    rng = random.Random(config.seed)
    started = time.monotonic()
    done = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=list(CHROMIUM_ARGS))
        try:
            while done < config.max_sessions and time.monotonic() - started < config.max_duration_seconds:
                platform = rng.choice(config.platforms)
                context = browser.new_context(
                    viewport=rng.choice(VIEWPORTS),
                    locale="en-US",
                    extra_http_headers={SYNTHETIC_HEADER: config.synthetic_key},
                )
                try:
                    pages = _session(context, config, platform, rng)
                    logger.info("browser session on %s: %d pages", platform, pages)
                except PlaywrightError as exc:  # a slow or broken page is what RUM is for: note it, go on
                    logger.warning("browser session on %s failed: %s", platform, str(exc).splitlines()[0])
                finally:
                    context.close()
                done += 1
                time.sleep(config.interval_seconds * rng.uniform(0.5, 1.5))
        finally:
            browser.close()
    return done
