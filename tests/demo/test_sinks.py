"""The demo's Slack, PagerDuty and SMTP sinks, as ``fanzwatch up --demo`` runs them (a child
process), receiving from fanzwatch's real notifiers over the real protocols."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fanzwatch.alerting.notify.base import Notification, NotificationEvent, Outcome
from fanzwatch.alerting.notify.email import EmailNotifier
from fanzwatch.alerting.notify.pagerduty import PagerDutyNotifier
from fanzwatch.alerting.notify.slack import SlackNotifier
from fanzwatch.core.clock import SystemClock

FANZWATCH = (sys.executable, "-c", "import sys; sys.argv[0] = 'fanzwatch'; from fanzwatch.cli import main; main()")


@dataclass
class Sinks:
    url: str
    smtp_port: int
    log_file: Path
    proc: subprocess.Popen[bytes]

    def messages(self, channel: str | None = None) -> list[dict[str, object]]:
        params = {"channel": channel} if channel else {}
        answer: list[dict[str, object]] = httpx.get(f"{self.url}/api/messages", params=params).json()
        return answer


def _ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def start_sinks(log_file: Path) -> Sinks:
    http_port, smtp_port = _ports(2)
    args = ("demo", "sinks", "--port", str(http_port), "--smtp-port", str(smtp_port), "--log-file", str(log_file))
    proc = subprocess.Popen([*FANZWATCH, *args])
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return Sinks(url, smtp_port, log_file, proc)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the sinks did not start")


def stop_sinks(sinks: Sinks) -> int:
    """SIGTERM, as the supervisor stops it; uvicorn shuts down, then re-raises the signal."""
    sinks.proc.send_signal(signal.SIGTERM)
    return sinks.proc.wait(timeout=15)


@pytest.fixture
def sinks(tmp_path: Path) -> Iterator[Sinks]:
    s = start_sinks(tmp_path / "sinks.jsonl")
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            stop_sinks(s)


def notification(event: NotificationEvent = NotificationEvent.TRIGGER) -> Notification:
    return Notification(
        event=event,
        incident_id=7,
        title="PaymentFailureRate on fanz-1",
        summary="12 % of payments fail on fanz-1 over the last 60 seconds",
        priority="P0",
        status="triggered",
        platform="fanz-1",
        service="payments",
        reason="on call (schedule:primary)",
        recipient="ana",
        address="ana@fanz.example",
        step="primary",
        runbook_url="http://127.0.0.1:8900/docs/runbooks/payment-failure-rate",
        incident_url="http://127.0.0.1:8900/dash/incidents/7",
        at=datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
        labels={"alertname": "PaymentFailureRate", "platform": "fanz-1"},
    )


async def test_each_real_notifier_delivers_and_the_page_shows_it(sinks: Sinks) -> None:
    clock = SystemClock()
    async with httpx.AsyncClient() as http:
        slack = SlackNotifier(
            "demo-slack", f"{sinks.url}/slack/services/T0/B0/demo", http, clock, timeout=5, concurrency=1
        )
        pagerduty = PagerDutyNotifier(
            "demo-pd",
            f"{sinks.url}/pagerduty/v2/enqueue",
            "demo-routing-key-0001",
            http,
            clock,
            timeout=5,
            concurrency=1,
        )
        email = EmailNotifier(
            "demo-mail",
            host="127.0.0.1",
            port=sinks.smtp_port,
            sender="alerts@fanzwatch.demo",
            username=None,
            password=None,
            security="none",
            timeout=5,
            concurrency=1,
        )
        results = [
            await slack.send(notification()),
            await pagerduty.send(notification()),
            await email.send(notification()),
            await pagerduty.send(notification(NotificationEvent.RESOLVE)),
        ]
    assert [r.outcome for r in results] == [Outcome.DELIVERED] * 4, results

    got = sinks.messages()
    assert [m["channel"] for m in got] == ["slack", "pagerduty", "email", "pagerduty"]
    slack_msg, pd_trigger, mail, pd_resolve = got
    assert (
        slack_msg["title"] == "\N{POLICE CARS REVOLVING LIGHT} [P0] Incident #7 triggered: PaymentFailureRate on fanz-1"
    )
    assert slack_msg["to"] == "/services/T0/B0/demo"
    assert pd_trigger["title"] == "[trigger] [P0] Incident #7 triggered: PaymentFailureRate on fanz-1"
    assert "dedup_key fanzwatch-incident-7" in str(pd_trigger["text"])
    assert "severity critical · source fanz-1" in str(pd_trigger["text"])
    assert pd_trigger["to"] == "routing key …0001"  # never the whole key
    assert "demo-routing-key" not in json.dumps(got)
    assert pd_resolve["title"] == "[resolve] resolve fanzwatch-incident-7"
    assert (mail["to"], mail["title"]) == (
        "ana@fanz.example",
        "[P0] Incident #7 triggered: PaymentFailureRate on fanz-1",
    )
    assert "Why you:  on call (schedule:primary)" in str(mail["text"])

    async with httpx.AsyncClient(base_url=sinks.url) as http:
        page = (await http.get("/")).text
        only_mail = (await http.get("/", params={"channel": "email"})).text
    assert page.count('<article class="m ') == 4
    assert '<a href="http://127.0.0.1:8900/dash/incidents/7">Incident #7</a>' in page  # Slack's <url|label>
    assert "\N{POLICE CARS REVOLVING LIGHT}" in page and ":rotating_light:" not in page
    assert only_mail.count('<article class="m ') == 1


async def test_refusals_are_the_real_services_answers(sinks: Sinks) -> None:
    async with httpx.AsyncClient(base_url=sinks.url) as http:
        not_json = await http.post("/slack/services/T0/B0/x", content=b"hello")
        no_text = await http.post("/slack/services/T0/B0/x", json={"channel": "#ops"})
        pd_bad = await http.post("/pagerduty/v2/enqueue", json={"event_action": "trigger", "routing_key": "k"})
        pd_ack = await http.post("/pagerduty/v2/enqueue", json={"event_action": "acknowledge", "routing_key": "k"})
    assert (not_json.status_code, not_json.text) == (400, "invalid_payload")
    assert (no_text.status_code, no_text.text) == (400, "no_text")
    assert pd_bad.status_code == 400
    assert pd_bad.json()["errors"] == ["'payload' is missing or not an object."]
    assert pd_ack.json()["errors"] == ["'dedup_key' is required for acknowledge events."]
    assert sinks.messages() == []  # nothing refused is shown as delivered


async def test_messages_survive_a_restart_of_the_sinks(tmp_path: Path) -> None:
    first = start_sinks(tmp_path / "sinks.jsonl")
    try:
        async with httpx.AsyncClient() as http:
            slack = SlackNotifier(
                "s", f"{first.url}/slack/services/T/B/x", http, SystemClock(), timeout=5, concurrency=1
            )
            assert (await slack.send(notification())).outcome is Outcome.DELIVERED
    finally:
        assert stop_sinks(first) in (0, -signal.SIGTERM)
    second = start_sinks(tmp_path / "sinks.jsonl")
    try:
        async with httpx.AsyncClient() as http:
            slack = SlackNotifier(
                "s", f"{second.url}/slack/services/T/B/x", http, SystemClock(), timeout=5, concurrency=1
            )
            assert (await slack.send(notification(NotificationEvent.RESOLVE))).outcome is Outcome.DELIVERED
        assert [m["id"] for m in second.messages()] == [1, 2]
    finally:
        stop_sinks(second)
