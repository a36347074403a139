"""Synthetic sessions (browsers you run on purpose, like the demo's headless Chromium) are
let through bot detection by their key only; everyone else's bots are still dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanzwatch.core.errors import ConfigError
from fanzwatch.settings.rum import RumSettings

from ._helpers import RumFactory, batch, make_settings, vital

HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0 Safari/537.36"
KEY = "demo-synthetic-7f3a91c2"
LABELS = {"platform": "fanz-1", "page_template": "/creator/:id", "device_class": "desktop"}


async def test_the_key_lets_a_headless_browser_in_and_nothing_else_changes(
    rum_factory: RumFactory, tmp_path: Path
) -> None:
    key_file = tmp_path / "rum_synthetic_key"
    key_file.write_text(KEY + "\n")
    rum = await rum_factory(make_settings(synthetic_key_file=key_file))
    headless = {"user-agent": HEADLESS}

    dropped = await rum.post("batch", batch(vital()), headers=headless)
    wrong = await rum.post("batch", batch(vital()), headers=headless | {"x-fanzwatch-synthetic": KEY + "x"})
    accepted = await rum.post("batch", batch(vital()), headers=headless | {"x-fanzwatch-synthetic": KEY})
    assert (dropped.status_code, wrong.status_code, accepted.status_code) == (204, 204, 202)
    assert rum.sample("fanz_rum_beacons_total", platform="other", endpoint="batch", outcome="bot") == 2.0
    assert rum.sample("fanz_rum_beacons_total", platform="fanz-1", endpoint="batch", outcome="accepted") == 1.0
    assert rum.sample("fanz_rum_lcp_seconds_count", **LABELS) == 1.0  # classified as the browser it is

    preflight = await rum.client.options(
        "/api/v1/analytics/batch",
        headers={"origin": "https://fanz-1.example", "access-control-request-headers": "x-fanzwatch-synthetic"},
    )
    assert "x-fanzwatch-synthetic" in preflight.headers["access-control-allow-headers"]


async def test_without_a_configured_key_the_header_means_nothing(rum_factory: RumFactory) -> None:
    rum = await rum_factory()
    response = await rum.post("batch", batch(vital()), headers={"user-agent": HEADLESS, "x-fanzwatch-synthetic": ""})
    assert response.status_code == 204
    response = await rum.post("batch", batch(vital()), headers={"user-agent": HEADLESS, "x-fanzwatch-synthetic": KEY})
    assert response.status_code == 204


def test_an_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the RUM synthetic key file"):
        RumSettings(synthetic_key_file=tmp_path / "missing").read_synthetic_key()
    assert RumSettings(synthetic_key=KEY).read_synthetic_key() == KEY
