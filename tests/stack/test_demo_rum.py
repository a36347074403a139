"""RUM with data: the demo's headless-Chromium sessions load the platform's pages, and
their beacons arrive through the same endpoint real browsers use, let past bot detection
by the demo's synthetic key (and by nothing else)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from _waiting import wait_until
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.stack import Stack

from .conftest import demo_settings, stack_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]
HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36"


def _value(http: httpx.Client, prom: str, expr: str) -> float:
    result = http.get(f"{prom}/api/v1/query", params={"query": expr}).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_browser_sessions_send_real_beacons(tmp_path: Path, ports: dict[str, int]) -> None:
    settings = stack_settings(tmp_path / "data", ports)
    demo = demo_settings(
        ports,
        browser_sessions=True,  # off by default in tests (tests/conftest.py)
        browser_interval_seconds=1.0,
        peak_rps=4,
        seed=9,
    )
    server = f"http://127.0.0.1:{ports['server']}"
    platform = f"http://127.0.0.1:{ports['platform']}"
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    accepted = 'sum(fanz_rum_beacons_total{outcome="accepted"})'
    with (
        Stack(settings, demo=demo, provisioning=ProvisioningSettings(slack=False, pagerduty=False, email=False)),
        httpx.Client(timeout=5.0) as http,
    ):
        wait_until(
            lambda: _value(http, prom, accepted) >= 3,
            timeout=120,
            message="3 beacons from the browser sessions",
            interval=0.5,
        )
        assert _value(http, prom, "sum(fanz_rum_page_load_seconds_count)") >= 1
        # Most beacons leave while their page lives, with the key; the few sent during unload lose it.
        assert _value(http, prom, 'sum(fanz_rum_beacons_total{outcome="bot"})') < _value(http, prom, accepted)

        # The same headless browser without the key is still a bot to the same endpoint.
        beacon = {"v": 1, "sid": "0123456789abcdef", "platform": "fanz-1", "sent": int(time.time() * 1000)}
        beacon |= {"url": f"{platform}/p/fanz-1/", "events": [{"type": "vital", "t": beacon["sent"] - 10}]}
        beacon["events"][0] |= {"name": "LCP", "value": 900.0}
        answer = http.post(
            f"{server}/api/v1/analytics/batch",
            json=beacon,
            headers={"origin": platform, "user-agent": HEADLESS, "content-type": "text/plain"},
        )
        assert answer.status_code == 204
