"""``make screenshots``: the README's pictures, taken from the running demo by headless Chromium.

Uses the running ``fanzwatch up --demo`` when there is one (found from any directory);
otherwise starts one in ``.fanzwatch-screenshots/`` (its own data dir, the default ports)
and stops it afterwards. Then it tells the demo's story once (a payment outage: the
incident, the notifications, the failover, the resolution), signs in to FanzDash with the
stack's viewer token and writes ``docs/screenshots/*.png``:

    fanzdash-overview.png     the overview, with the backfilled history
    fanzdash-incident.png     the outage's incident page and its timeline
    fanzdash-anomalies.png    anomalies with their bands
    fanzdash-bi.png           the BI page
    fanzdash-rum.png          RUM, from the demo's browser sessions
    notifications.png         what the on-call people received (the demo's sinks)
    fanzdash-slos.png, fanzdash-traces.png, fanzdash-logs.png  SLOs, trace search, log search
    and the other pages docs/fanzdash.md shows (incidents, alerts, health, dashboards,
    insights and forecast)

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--no-story]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx

from fanzwatch.cli._common import running_stack
from fanzwatch.demo.incidents import IncidentController, IncidentKind, IncidentTargets
from fanzwatch.stack.registry import RunningStack

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect, ViewportSize

ROOT = Path(__file__).resolve().parents[1]
FANZWATCH = (sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()")
VIEWPORT: ViewportSize = {"width": 1440, "height": 900}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]


def say(message: str) -> None:
    print(f"screenshots: {message}", flush=True)


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except httpx.HTTPError:
            value = None
        if value:
            return value
        time.sleep(interval)
    raise SystemExit(f"screenshots: {what} not seen within {timeout:g} s")


def start_demo(data_dir: Path) -> subprocess.Popen[str]:
    say(f"no demo is running: starting `fanzwatch up --demo --data-dir {data_dir}`")
    log = (data_dir.parent / f"{data_dir.name}.log").open("w")
    proc = subprocess.Popen(
        [*FANZWATCH, "up", "--demo", "--data-dir", str(data_dir)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    return proc


def find_demo(data_dir: Path, timeout: float) -> RunningStack:
    def found() -> RunningStack | None:
        stack = running_stack(data_dir)
        return stack if stack is not None and stack.demo else None

    stack: RunningStack = wait_for(found, timeout=timeout, what="the demo stack")
    return stack


def tell_the_story(stack: RunningStack, http: httpx.Client, auth: dict[str, str]) -> int | None:
    """A payment outage: the incident, the failover, then the primary healed and the incident
    resolved (correlation keeps the primary's health alert in it until then); returns its id."""
    assert stack.demo is not None and stack.server_url is not None
    server = stack.server_url
    faults = IncidentController(
        IncidentTargets(platform_url=stack.demo["platform_url"], processor_url=stack.demo["processor_url"])
    )
    say("injecting payment_outage; waiting for the incident, the failover and the resolution")
    anyio.run(faults.inject, IncidentKind.PAYMENT_OUTAGE)

    def incident() -> dict[str, Any] | None:
        listed = http.get(f"{server}/api/v1/incidents", params={"limit": 10}, headers=auth).json()
        for summary in listed["incidents"]:
            detail: dict[str, Any] = http.get(f"{server}/api/v1/incidents/{summary['id']}", headers=auth).json()
            if any(a["alertname"] == "PaymentFailureRate" for a in detail["alerts"]):
                return detail
        return None

    def verified() -> bool:
        found = incident()
        return found is not None and any("verified" in e["message"] for e in found["timeline"])

    def resolved() -> bool:
        found = incident()
        return found is not None and found["status"] == "resolved"

    healed = False
    try:
        opened = wait_for(incident, timeout=240, what="the PaymentFailureRate incident")
        say(f"incident #{opened['id']} opened; waiting for the failover to be verified")
        wait_for(verified, timeout=300, what="the failover verified", interval=3)
        anyio.run(faults.heal, IncidentKind.PAYMENT_OUTAGE)
        healed = True
        say("primary healed; waiting for the incident to resolve")
        try:
            wait_for(resolved, timeout=300, what="the incident resolved", interval=3)
        except SystemExit as exc:  # other platforms' correlated alerts may keep it open: show it as it is
            say(f"{exc}; taking the pictures anyway")
        return int(opened["id"])
    finally:
        if not healed:
            anyio.run(faults.heal, IncidentKind.PAYMENT_OUTAGE)


def shoot(stack: RunningStack, out: Path, incident_id: int | None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("screenshots: no Chromium on PATH (make system-deps)")
    dash = stack.fanzdash_url or f"{stack.server_url}/dash/"
    token = (stack.secrets_dir / "viewer_token").read_text().strip()
    sinks = stack.urls.get("notifications")
    pages: list[tuple[str, str, bool]] = [
        ("fanzdash-overview.png", f"{dash}?range=7d", False),
        ("fanzdash-incident.png", f"{dash}incidents/{incident_id}" if incident_id else f"{dash}incidents", True),
        ("fanzdash-anomalies.png", f"{dash}anomalies?range=24h", False),
        ("fanzdash-bi.png", f"{dash}bi?window=7d", False),
        ("fanzdash-rum.png", f"{dash}rum", False),
        # the rest of docs/fanzdash.md's pictures, so none is older than the features
        ("fanzdash-incidents.png", f"{dash}incidents?status=all", False),
        ("fanzdash-alerts.png", f"{dash}alerts", False),
        ("fanzdash-health.png", f"{dash}health", False),
        ("fanzdash-dashboards.png", f"{dash}dashboards", False),
        ("fanzdash-dashboard-core.png", f"{dash}dashboards/fanz-core?range=24h", False),
        ("fanzdash-dashboard-business.png", f"{dash}dashboards/fanz-business?range=7d", False),
        ("fanzdash-anomaly-analysis.png", f"{dash}anomalies/analysis", False),
        ("fanzdash-slos.png", f"{dash}slos?range=24h", False),
        ("fanzdash-traces.png", f"{dash}traces", False),
        ("fanzdash-logs.png", f"{dash}logs", False),
    ]
    if sinks:
        pages.append(("notifications.png", sinks, False))
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale="en-US")
        page = context.new_page()
        page.goto(f"{dash}login")
        page.fill("input[name=token]", token)
        page.locator("form button[type=submit], form input[type=submit]").first.click()
        page.wait_for_load_state("load")
        for name, url, full in pages:
            response = page.goto(url, wait_until="networkidle")
            if response is not None and response.status == 404 and "/incidents/" in url:
                response = page.goto(f"{dash}incidents", wait_until="networkidle")
            page.wait_for_timeout(1500)  # charts draw after the data arrives
            path = out / name
            # A long page (an incident's timeline) is cut at 1,800 px: a README picture, not a print-out.
            clip: FloatRect | None = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": 1800} if full else None
            page.screenshot(path=str(path), full_page=full, clip=clip)
            written.append(path)
            say(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({url})")
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".fanzwatch-screenshots")
    parser.add_argument("--no-story", action="store_true", help="do not inject the payment outage first")
    parser.add_argument("--incident", type=int, help="with --no-story: the incident page to show")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds a demo it started runs before the pictures")
    args = parser.parse_args()

    started: subprocess.Popen[str] | None = None
    stack = running_stack()
    if stack is None or not stack.demo:
        started = start_demo(args.data_dir.resolve())
        stack = find_demo(args.data_dir.resolve(), timeout=600)
    try:
        assert stack.server_url is not None
        token = (stack.secrets_dir / "viewer_token").read_text().strip()
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=10.0) as http:
            wait_for(lambda: http.get(f"{stack.server_url}/health/live").is_success, timeout=60, what="the server")
            if started is not None:
                say(f"letting the fresh demo run {args.warmup:g} s, so every panel has recent data")
                time.sleep(args.warmup)
            incident_id = args.incident if args.no_story else tell_the_story(stack, http, auth)
        shoot(stack, args.out, incident_id)
    finally:
        if started is not None:
            say("stopping the demo it started")
            os.killpg(started.pid, signal.SIGINT)
            started.wait(timeout=120)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
