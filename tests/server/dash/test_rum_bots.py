"""The RUM page says when beacons arrive but are dropped as bots: headless Chromium's beacons
reach the real server, its bot-drop counter is scraped by a real Prometheus, and the page
counts them instead of telling the user to add the RUM script."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.auth import AuthSettings
from fanzwatch.settings.dash import DashSettings

from .._auth import TOKENS
from .stack import Child, binary, free_port, serving, wait_for

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0.0.0 Safari/537.36"
)
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
VIEWER = {"authorization": f"Bearer {TOKENS['viewer']}"}


def beacon(platform: str = "fanz-1") -> str:
    now_ms = int(time.time() * 1000)
    return json.dumps(
        {
            "v": 1,
            "sid": "5f1d3c2b4a6978e0",
            "platform": platform,
            "sent": now_ms,
            "url": "https://fanz-1.example/creator/42",
            "events": [{"type": "vital", "t": now_ms - 1000, "name": "LCP", "value": 1800.0}],
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    work = tmp_path_factory.mktemp("rum-bots")
    prom_port = free_port()
    settings = ServerSettings(
        auth=AuthSettings(**{f"{r}_token": t for r, t in TOKENS.items()}, anonymous_metrics=True),
        data_dir=work / "data",
        dash=DashSettings(prometheus_url=f"http://127.0.0.1:{prom_port}", scrape_interval_seconds=1),
    )
    with serving(create_app(settings)) as url:
        config = {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [
                {"job_name": "fanzwatch", "static_configs": [{"targets": [url.removeprefix("http://")]}]}
            ],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        prom = Child(
            [
                binary("prometheus"),
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}",
            ],
            f"http://127.0.0.1:{prom_port}",
            work / "prometheus.log",
        )
        prom.start()
        try:
            yield url, prom.url
        finally:
            prom.stop()


def _scraped(prom: str, outcome: str, at_least: int) -> bool:
    query = f'sum(fanz_rum_beacons_total{{outcome="{outcome}"}})'
    found = httpx.get(f"{prom}/api/v1/query", params={"query": query}).json()["data"]["result"]
    return bool(found) and float(found[0]["value"][1]) >= at_least


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_bot_beacons_are_counted_on_the_rum_page(server: tuple[str, str]) -> None:
    url, prom = server
    # Before any beacon (but once the counter has been scraped at all): the usual hint.
    first = httpx.get(f"{url}/dash/rum", headers=VIEWER).text
    assert "Add the RUM script" in first
    for _ in range(3):
        answer = httpx.post(
            f"{url}/api/v1/analytics/batch",
            content=beacon(),
            headers={"content-type": "text/plain", "user-agent": HEADLESS},
        )
        assert answer.status_code == 204  # dropped as a bot, silently for the browser
    wait_for("Prometheus to scrape the bot drops", lambda: _scraped(prom, "bot", 3), 30, interval=0.3)

    page = _text(httpx.get(f"{url}/dash/rum", headers=VIEWER).text)
    assert "Beacons in the last 24h (all platforms): 0 accepted, 3 dropped as bots." in page
    assert "every one of the last 24h (3) was dropped as a bot" in page
    assert "Add the RUM script" not in page

    accepted = httpx.post(
        f"{url}/api/v1/analytics/batch", content=beacon(), headers={"content-type": "text/plain", "user-agent": CHROME}
    )
    assert accepted.status_code in (202, 204), accepted.text
    wait_for("Prometheus to scrape the accepted beacon", lambda: _scraped(prom, "accepted", 1), 30, interval=0.3)
    page = _text(httpx.get(f"{url}/dash/rum", headers=VIEWER).text)
    assert "1 accepted, 3 dropped as bots." in page
    assert "was dropped as a bot" not in page  # some beacons count: no longer "all bots"


def test_docs_name_the_setting_the_page_names() -> None:
    page = (Path(__file__).parents[3] / "src/fanzwatch/server/dash/templates/rum.html").read_text()
    assert "FANZWATCH_RUM_BOT_USER_AGENT_PATTERN" in page
    assert "bot_user_agent_pattern" in (Path(__file__).parents[3] / "docs/rum.md").read_text()
