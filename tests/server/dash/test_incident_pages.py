"""Incidents in FanzDash on the real server app (``create_app``: store, alerting service,
auth): the list with its filters, an incident's page, and acknowledge / resolve / note from
it, with the responder role and CSRF-checked forms."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from _waiting import wait_until
from alerting._fakes import FakePagerDuty, FakeSlack
from alerting._helpers import TOKEN as WEBHOOK_TOKEN
from alerting._helpers import on_call_settings
from fanzwatch.server import create_app
from fanzwatch.settings import ServerSettings
from fanzwatch.settings.auth import AuthSettings

from .._auth import TOKENS

AUTH = AuthSettings(**{f"{role}_token": token for role, token in TOKENS.items()})
PLATFORMS = ("fanz-1", "fanz-2", "fanz-3")


def am_alert(name: str, platform: str, *, severity: str = "critical", status: str = "firing") -> dict[str, Any]:
    starts = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    labels = {"alertname": name, "platform": platform, "severity": severity}
    return {
        "status": status,
        "labels": labels,
        "annotations": {"summary": f"{name} on {platform}", "runbook_url": f"https://runbooks.test/{name}.md"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph",
        "fingerprint": hashlib.sha256(f"{name}{platform}".encode()).hexdigest()[:16],
    }


def payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    first = alerts[0]["labels"]
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{first["alertname"]}", platform="{first["platform"]}"}}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "fanzwatch",
        "groupLabels": {"alertname": first["alertname"], "platform": first["platform"]},
        "commonLabels": first,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.test",
        "alerts": list(alerts),
    }


@dataclass
class Served:
    client: TestClient
    ids: dict[str, int]


def _wait_for_incidents(client: TestClient, count: int) -> list[dict[str, Any]]:
    bearer = {"authorization": f"Bearer {TOKENS['viewer']}"}
    deadline = time.monotonic() + 15
    while True:
        found = client.get("/api/v1/incidents", params={"limit": 50}, headers=bearer).json()["incidents"]
        if len(found) >= count:
            return list(found)
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


@pytest.fixture
def on_call() -> Iterator[tuple[FakeSlack, FakePagerDuty]]:
    """Slack and PagerDuty as local HTTP servers speaking their protocols."""
    slack, pagerduty = FakeSlack(), FakePagerDuty()
    yield slack, pagerduty
    slack.close()
    pagerduty.close()


@pytest.fixture
def served(tmp_path: Path, on_call: tuple[FakeSlack, FakePagerDuty]) -> Iterator[Served]:
    """Two incidents: PaymentFailureRate (P0, fanz-3 with a fanz-2 alert too) and a P1 on fanz-1;
    the on-call people are paged on PagerDuty and told on Slack."""
    alerting = on_call_settings(*on_call, tick_interval="1s")
    settings = ServerSettings(auth=AUTH, data_dir=tmp_path, platforms=PLATFORMS, alerting=alerting)
    with TestClient(create_app(settings), base_url="http://testserver", follow_redirects=False) as client:
        hook = {"authorization": f"Bearer {WEBHOOK_TOKEN}"}
        first = payload(am_alert("PaymentFailureRate", "fanz-3"), am_alert("PaymentFailureRate", "fanz-2"))
        answer = client.post("/api/v1/alerts/webhook", json=first, headers=hook)
        assert answer.status_code == 202, answer.text
        second = payload(am_alert("HighResponseTime", "fanz-1", severity="warning"))
        assert client.post("/api/v1/alerts/webhook", json=second, headers=hook).status_code == 202
        found = _wait_for_incidents(client, 2)
        ids = {("payment" if "Payment" in i["title"] else "latency"): int(i["id"]) for i in found}
        yield Served(client, ids)


def csrf_of(client: TestClient, path: str) -> str:
    (token,) = re.findall(r'name="csrf" value="([^"]+)"', client.get(path).text)[:1]
    return token


def sign_in(client: TestClient, role: str) -> None:
    answer = client.post(
        "/dash/login", data={"token": TOKENS[role], "csrf": csrf_of(client, "/dash/login"), "next": "/dash/"}
    )
    assert answer.status_code == 303, answer.text


def act(client: TestClient, incident_id: int, action: str, **form: str) -> httpx.Response:
    page = f"/dash/incidents/{incident_id}"
    return client.post(f"{page}/{action}", data={"csrf": csrf_of(client, page), **form})


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-incident-id="(\d+)"', html)


def test_the_list_filters_by_status_priority_platform_and_time(served: Served) -> None:
    client, ids = served.client, served.ids
    sign_in(client, "responder")
    assert act(client, ids["latency"], "resolve", by="ana").status_code == 303

    open_only = client.get("/dash/incidents")
    assert open_only.status_code == 200
    assert rows(open_only.text) == [str(ids["payment"])]
    everything = client.get("/dash/incidents", params={"status": "all"}).text
    assert sorted(rows(everything)) == sorted(str(i) for i in ids.values())
    assert rows(client.get("/dash/incidents", params={"status": "resolved"}).text) == [str(ids["latency"])]
    assert rows(client.get("/dash/incidents", params={"status": "all", "priority": "P1"}).text) == [str(ids["latency"])]
    # An incident affects the platform of each of its alerts, not only the first.
    assert rows(client.get("/dash/incidents", params={"status": "all", "platform": "fanz-2"}).text) == [
        str(ids["payment"])
    ]
    assert rows(client.get("/dash/incidents", params={"status": "all", "since": "24h"}).text) != []
    assert "2 incidents" in everything


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "gone"}, "status &#39;gone&#39; is not offered"),
        ({"priority": "P9"}, "priority &#39;P9&#39; is not offered"),
        ({"platform": "fanz-99"}, "platform &#39;fanz-99&#39; is not configured"),
        ({"since": "1y"}, "since &#39;1y&#39; is not offered"),
        ({"page": "0"}, "page must be a whole number from 1"),
    ],
)
def test_bad_filters_answer_400_and_say_what_to_choose(served: Served, params: dict[str, str], message: str) -> None:
    sign_in(served.client, "viewer")
    answer = served.client.get("/dash/incidents", params=params)
    assert answer.status_code == 400
    assert message in answer.text


def test_the_incident_page_shows_alerts_platforms_timeline_and_notifications(served: Served) -> None:
    sign_in(served.client, "viewer")
    page = served.client.get(f"/dash/incidents/{served.ids['payment']}")
    assert page.status_code == 200
    html = page.text
    assert "PaymentFailureRate on fanz-3" in html
    assert re.search(r"Affected platforms</dt><dd>fanz-2, fanz-3</dd>", html)
    assert html.count("<strong>PaymentFailureRate</strong>") == 2
    assert 'data-kind="opened"' in html and 'data-kind="alert_fired"' in html
    assert "PaymentFailureRate joined: PaymentFailureRate on fanz-2" in html
    assert "No playbook matched this incident." in html
    # A viewer sees no forms it cannot use, and how to get the role.
    assert 'action="/dash/incidents/' not in html
    assert "need the responder role" in html


def test_notifications_delivered_are_listed_with_their_delivery(
    served: Served, on_call: tuple[FakeSlack, FakePagerDuty]
) -> None:
    _slack, pagerduty = on_call
    deadline = time.monotonic() + 15
    while len(pagerduty.accepted) < 2:  # both incidents paged
        assert time.monotonic() < deadline, pagerduty.requests
        time.sleep(0.05)
    sign_in(served.client, "viewer")
    html = served.client.get(f"/dash/incidents/{served.ids['payment']}").text
    cells = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r'<tr data-channel="pd">(.*?)</tr>', html)
    ]
    # To, channel, event, delivery: the primary on call this week (ana and ben alternate) was paged, and it arrived.
    assert [c[1:4] for c in cells] == [["pd pagerduty", "trigger", "sent"]], cells
    assert cells[0][0] in ("ana", "ben")


def test_the_link_people_are_paged_with_opens_the_incidents_page(
    served: Served, on_call: tuple[FakeSlack, FakePagerDuty]
) -> None:
    """PagerDuty's ``client_url`` goes to FanzDash's page, not to the JSON API behind it."""
    pagerduty = on_call[1]
    payment = served.ids["payment"]
    paged = wait_until(
        lambda: [r.body for r in pagerduty.accepted if r.body["dedup_key"] == f"fanzwatch-incident-{payment}"],
        timeout=30,
        message="the payment incident was not paged",
    )
    page = f"http://fanzwatch.test/dash/incidents/{payment}"
    assert [body["client_url"] for body in paged] == [page]
    sign_in(served.client, "viewer")
    opened = served.client.get(page.removeprefix("http://fanzwatch.test"))
    assert opened.status_code == 200
    assert "text/html" in opened.headers["content-type"]
    assert f"incident {payment}</small>" in opened.text and "<h1>PaymentFailureRate on fanz-3</h1>" in opened.text


def test_a_responder_acknowledges_notes_and_resolves_from_the_page(served: Served) -> None:
    client, incident = served.client, served.ids["payment"]
    sign_in(client, "responder")
    page = f"/dash/incidents/{incident}"

    ack = act(client, incident, "ack", by="Ana On-call")
    assert ack.status_code == 303 and ack.headers["location"] == f"{page}?done=acknowledged#timeline"
    shown = client.get(ack.headers["location"]).text
    assert "Acknowledged: escalation stopped." in shown
    assert "badge-acknowledged" in shown and "Ana On-call" in shown
    again = act(client, incident, "ack", by="Ben")
    assert again.status_code == 200 and "already acknowledged: nothing changed" in again.text

    note = act(client, incident, "notes", by="Ana On-call", text="failing over to the backup processor, ana@fanz.test")
    assert note.status_code == 303
    timeline = client.get(page).text
    assert "failing over to the backup processor" in timeline
    assert "ana@fanz.test" not in timeline  # scrubbed like the API's notes

    done = act(client, incident, "resolve", by="Ana On-call", text="backup processor took over")
    assert done.status_code == 303
    resolved = client.get(page).text
    assert "badge-resolved" in resolved and "backup processor took over" in resolved
    assert f'action="/dash/incidents/{incident}/ack"' not in resolved

    twice = act(client, incident, "resolve", by="Ana On-call")
    assert twice.status_code == 409
    assert "already resolved: nothing was changed" in twice.text
    api = client.get(f"/api/v1/incidents/{incident}", headers={"authorization": f"Bearer {TOKENS['viewer']}"})
    kinds = [e["kind"] for e in api.json()["timeline"]]
    assert kinds.count("acknowledged") == 1 and "note" in kinds


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"by": "   "}, "Say who you are"),
        ({"by": "x" * 129}, "at most 128 printable characters"),
        ({"by": "ana", "text": ""}, "Write the note first"),
    ],
)
def test_invalid_action_forms_answer_400_and_change_nothing(served: Served, form: dict[str, str], message: str) -> None:
    client, incident = served.client, served.ids["payment"]
    sign_in(client, "responder")
    answer = act(client, incident, "notes", **form)
    assert answer.status_code == 400 and message in answer.text
    timeline = client.get(
        f"/api/v1/incidents/{incident}", headers={"authorization": f"Bearer {TOKENS['viewer']}"}
    ).json()["timeline"]
    assert [e for e in timeline if e["kind"] == "note"] == []


def test_actions_need_a_responder_and_a_fresh_form(served: Served) -> None:
    client, incident = served.client, served.ids["payment"]
    page = f"/dash/incidents/{incident}"
    anonymous = client.post(f"{page}/ack", data={"by": "x"})
    assert anonymous.status_code == 401
    sign_in(client, "viewer")
    viewer = act(client, incident, "ack", by="Vic")
    assert viewer.status_code == 403
    sign_in(client, "responder")
    forged = client.post(f"{page}/ack", data={"by": "Mallory", "csrf": "forged.token"})
    assert forged.status_code == 403 and "CSRF check failed" in forged.text
    cross = client.post(
        f"{page}/ack",
        data={"by": "Mallory", "csrf": csrf_of(client, page)},
        headers={"origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    status = client.get(f"/api/v1/incidents/{incident}", headers={"authorization": f"Bearer {TOKENS['viewer']}"})
    assert status.json()["status"] == "triggered"


def test_the_overview_links_the_open_incidents(served: Served) -> None:
    sign_in(served.client, "viewer")
    html = served.client.get("/dash/").text
    card = html[html.index('id="card-incidents"') :]
    assert f'href="/dash/incidents/{served.ids["payment"]}">PaymentFailureRate on fanz-3</a>' in card
    assert f'href="/dash/incidents/{served.ids["latency"]}">' in card


def test_unknown_incidents_are_404_pages(served: Served) -> None:
    client = served.client
    sign_in(client, "responder")
    for path in ("/dash/incidents/999999", "/dash/incidents/abc", "/dash/incidents/-1"):
        answer = client.get(path)
        assert answer.status_code == 404 and "There is no incident" in answer.text
    assert act(client, 424242, "ack", by="ana").status_code == 404


def test_the_incident_page_links_traces_and_logs_of_its_platforms_and_window(served: Served) -> None:
    sign_in(served.client, "viewer")
    html = served.client.get(f"/dash/incidents/{served.ids['payment']}").text
    links = re.search(r"<dd data-telemetry-links>(.*?)</dd>", html, re.S)
    assert links, "no traces and logs links"
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', links.group(1))]
    assert [h.split("?")[0] for h in hrefs] == ["/dash/traces", "/dash/traces", "/dash/logs"]
    for href in hrefs:
        assert "platform=fanz-2&platform=fanz-3" in href
        window = dict(re.findall(r"(from|to)=(\d+)", href))
        assert int(window["to"]) - int(window["from"]) >= 30 * 60  # 15 min either side of the incident
    assert "status=error" in hrefs[1] and "severity=warn" in hrefs[2] and "order=slowest" in hrefs[0]
