"""Working an incident in real Chromium on the real server (``create_app`` under uvicorn,
authentication on): sign in as a responder, acknowledge, add a note and resolve from the
incident's page; a viewer sees the page without the forms. Alerts arrive through the real
webhook; PagerDuty is a local server speaking Events v2."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from alerting._fakes import FakePagerDuty, FakeSlack
from alerting._helpers import TOKEN as WEBHOOK_TOKEN
from alerting._helpers import on_call_settings
from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.auth import AuthSettings

from .._auth import TOKENS
from .stack import serving, wait_for
from .test_browser import ARTIFACTS, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AUTH = AuthSettings(**{f"{role}_token": token for role, token in TOKENS.items()})
VIEWER = {"authorization": f"Bearer {TOKENS['viewer']}"}


@dataclass
class Server:
    url: str
    incident: int


def _alert(platform: str) -> dict[str, Any]:
    labels = {"alertname": "PaymentProcessorDown", "platform": platform, "severity": "critical"}
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": f"Payment processor down for {platform}"},
        "startsAt": (datetime.now(UTC) - timedelta(minutes=2)).isoformat(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph",
        "fingerprint": hashlib.sha256(platform.encode()).hexdigest()[:16],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    slack, pagerduty = FakeSlack(), FakePagerDuty()
    settings = ServerSettings(
        auth=AUTH,
        data_dir=tmp_path_factory.mktemp("incident-browser"),
        platforms=("fanz-1", "fanz-2"),
        alerting=on_call_settings(slack, pagerduty, tick_interval="1s"),
    )
    try:
        with serving(create_app(settings)) as url:
            body = {
                "version": "4",
                "groupKey": '{}:{alertname="PaymentProcessorDown"}',
                "truncatedAlerts": 0,
                "status": "firing",
                "receiver": "fanzwatch",
                "groupLabels": {"alertname": "PaymentProcessorDown"},
                "commonLabels": {"alertname": "PaymentProcessorDown", "severity": "critical"},
                "commonAnnotations": {},
                "externalURL": "http://alertmanager.test",
                "alerts": [_alert("fanz-1"), _alert("fanz-2")],
            }
            answer = httpx.post(
                f"{url}/api/v1/alerts/webhook", json=body, headers={"authorization": f"Bearer {WEBHOOK_TOKEN}"}
            )
            assert answer.status_code == 202, answer.text

            def opened() -> int | None:
                found = httpx.get(f"{url}/api/v1/incidents", headers=VIEWER).json()["incidents"]
                return int(found[0]["id"]) if found else None

            incident = wait_for("the incident", opened, 15)
            wait_for("the page to PagerDuty", lambda: pagerduty.accepted, 15)
            yield Server(url, incident)
    finally:
        slack.close()
        pagerduty.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == []


def sign_in(page: Page, server: Server, role: str, then: str) -> None:
    page.goto(f"{server.url}/dash/login?next={then}")
    page.get_by_label("Token").fill(TOKENS[role])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url == server.url + then


def _api(server: Server) -> dict[str, Any]:
    return dict(httpx.get(f"{server.url}/api/v1/incidents/{server.incident}", headers=VIEWER).json())


def test_a_viewer_sees_the_incident_but_no_forms(server: Server, page: Page) -> None:
    sign_in(page, server, "viewer", f"/dash/incidents/{server.incident}")
    assert page.locator("h1").inner_text() == "PaymentProcessorDown on fanz-1"
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    assert "need the responder role" in page.locator("#act-h + *, #act-h ~ p").first.inner_text()


def test_a_responder_acknowledges_notes_and_resolves_in_the_browser(server: Server, page: Page) -> None:
    path = f"/dash/incidents/{server.incident}"
    sign_in(page, server, "responder", path)
    main = page.locator("main")
    assert "fanz-1, fanz-2" in main.locator("dt:has-text('Affected platforms') + dd").inner_text()
    assert page.locator("tr[data-channel='pd']").count() >= 1  # the page to PagerDuty, listed

    ack = page.locator("form[action$='/ack']")
    ack.get_by_label("Your name").fill("Ana On-call")
    with page.expect_navigation():
        ack.get_by_role("button", name="Acknowledge").click()
    assert page.locator(".notice-success").inner_text() == "Acknowledged: escalation stopped."
    assert page.locator("ol.timeline li[data-kind='acknowledged'] .actor").inner_text() == "Ana On-call"
    assert _api(server)["status"] == "acknowledged"

    note = page.locator("form[action$='/notes']")
    note.get_by_label("Your name").fill("Ana On-call")
    note.get_by_label("Note").fill("Switching fanz-1 and fanz-2 to the backup processor")
    with page.expect_navigation():
        note.get_by_role("button", name="Add note").click()
    assert "Switching fanz-1 and fanz-2" in page.locator("ol.timeline li[data-kind='note']").last.inner_text()

    resolve = page.locator("form[action$='/resolve']")
    resolve.get_by_label("Your name").fill("Ana On-call")
    resolve.get_by_label("What fixed it").fill("Backup processor took the traffic")
    with page.expect_navigation():
        resolve.get_by_role("button", name="Resolve").click()
    assert page.locator(".notice-success").inner_text() == "Resolved."
    assert page.locator(".big .badge-resolved").count() == 1
    assert page.get_by_role("button", name="Resolve").count() == 0
    found = _api(server)
    assert found["status"] == "resolved" and found["resolved_by"] == "Ana On-call"
    assert [e["kind"] for e in found["timeline"]].count("note") == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "incident.png"), full_page=True)

    # The list: gone from the open ones, there among the resolved.
    page.goto(f"{server.url}/dash/incidents")
    assert page.locator(f"tr[data-incident-id='{server.incident}']").count() == 0
    with page.expect_navigation():
        page.get_by_label("Status").select_option("resolved")  # applies on change
    assert re.search(r"status=resolved", page.url)
    assert page.locator(f"tr[data-incident-id='{server.incident}']").count() == 1
    page.screenshot(path=str(ARTIFACTS / "incidents.png"), full_page=True)


def test_an_expired_session_is_told_to_sign_in_again(server: Server, page: Page) -> None:
    path = f"/dash/incidents/{server.incident}"
    sign_in(page, server, "responder", path)
    page.context.clear_cookies()
    note = page.locator("form[action$='/notes']")
    note.get_by_label("Your name").fill("Ana")
    note.get_by_label("Note").fill("after the session ended")
    with page.expect_navigation():
        note.get_by_role("button", name="Add note").click()
    # The session is gone: the server's auth refuses before FanzDash, says why, offers to sign in.
    assert page.locator("h1").inner_text() == "Not allowed"
    assert page.get_by_role("link", name="Sign in").count() == 1
    assert "after the session ended" not in str(_api(server)["timeline"])
