"""The whole system, end to end: a payment processor outage pages people, and healing resolves it.

Real Prometheus, Alertmanager and node_exporter; the real demo platform, processor and
traffic simulator as child processes; real HTTP receivers in the test for the alert
webhook (where the fanzwatch server's webhook lives) and for Slack (its incoming-webhook
URL is the secret file Alertmanager reads). Short intervals: 1 s scrape, evaluation and
grouping, alert holds ×0.02.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from fanzwatch.demo.incidents import IncidentController, IncidentKind, IncidentTargets
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack

from ._load import PaymentLoad
from ._receivers import Received, recording_receiver

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(240)]
ALERT = "PaymentFailureRate"
PLATFORM = "fanz-1"


def poll(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.2) -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not seen within {timeout:g} s (last: {last!r})")


def _prometheus_alert(http: httpx.Client, url: str) -> dict[str, Any] | None:
    alerts = http.get(f"{url}/api/v1/alerts").json()["data"]["alerts"]
    return next(
        (a for a in alerts if a["labels"].get("alertname") == ALERT and a["labels"].get("platform") == PLATFORM),
        None,
    )


def _query(http: httpx.Client, url: str, expr: str) -> float | None:
    result = http.get(f"{url}/api/v1/query", params={"query": expr}).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _webhook(status: str) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        alerts = m.body.get("alerts", [])
        return (
            m.path == "/api/v1/alerts/webhook"
            and m.body.get("status") == status
            and any(a["labels"].get("alertname") == ALERT and a["status"] == status for a in alerts)
        )

    return match


def _slack(channel: str, prefix: str) -> Callable[[Received], bool]:
    def match(m: Received) -> bool:
        attachments = m.body.get("attachments") or [{}]
        title = str(attachments[0].get("title", ""))
        return m.body.get("channel") == channel and title.startswith(prefix)

    return match


def test_payment_outage_pages_and_healing_resolves(tmp_path: Path, ports: dict[str, int]) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "slack_api_url").write_text(f"http://127.0.0.1:{ports['slack']}/services/T000/B000/XXXX")
    settings = StackSettings(
        data_dir=tmp_path / "data",
        short_intervals=True,
        run_server=False,  # the webhook receiver below listens where the server's alert webhook would
        secrets_dir=secrets,
        prometheus_port=ports["prometheus"],
        alertmanager_port=ports["alertmanager"],
        node_exporter_port=ports["node_exporter"],
        server_port=ports["server"],
        startup_timeout_seconds=90,
        stop_grace_seconds=10,
    )
    demo = DemoSettings(
        platform_port=ports["platform"],
        processor_port=ports["processor"],
        simulator_port=ports["simulator"],
        platforms=(PLATFORM, "fanz-2"),
        seed=11,
    )
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    am = f"http://127.0.0.1:{ports['alertmanager']}"
    platform_url = f"http://127.0.0.1:{ports['platform']}"
    incidents = IncidentController(
        IncidentTargets(platform_url=platform_url, processor_url=f"http://127.0.0.1:{ports['processor']}")
    )
    with (
        recording_receiver(ports["server"]) as webhook,
        recording_receiver(ports["slack"], answer=b"ok") as slack,
        Stack(settings, demo=demo) as stack,
        httpx.Client(timeout=5.0) as http,
    ):
        assert set(stack.urls()) == {
            "node_exporter",
            "alertmanager",
            "prometheus",
            "processor",
            "platform",
            "simulator",
        }
        load = PaymentLoad(platform_url, PLATFORM, rate=10).start()
        try:
            # The alert needs 10 attempts in its window before a failure ratio means anything.
            attempts = f'platform:fanz_payment_transactions:increase5m{{platform="{PLATFORM}"}}'
            poll(lambda: (_query(http, prom, attempts) or 0) >= 10, timeout=30, what="10 payment attempts")
            assert _prometheus_alert(http, prom) is None

            load.rate = 4  # few failures, so few successes are needed to resolve (5 m windows)
            injected_at = time.monotonic()
            anyio.run(incidents.inject, IncidentKind.PAYMENT_OUTAGE)

            firing = poll(
                lambda: (a := _prometheus_alert(http, prom)) and a["state"] == "firing" and a,
                timeout=45,
                what=f"{ALERT} firing in Prometheus",
            )
            fired_at = time.monotonic()
            assert firing["labels"]["severity"] == "critical"
            assert firing["labels"]["service"] == "payments"
            assert float(firing["value"]) > 0.05

            in_am = poll(
                lambda: http.get(f"{am}/api/v2/alerts", params={"filter": f'alertname="{ALERT}"'}).json(),
                timeout=15,
                what=f"{ALERT} in Alertmanager",
            )
            assert {a["labels"]["platform"] for a in in_am} == {PLATFORM}
            assert in_am[0]["status"]["state"] == "active"
            assert {r["name"] for r in in_am[0]["receivers"]} == {"fanzwatch", "critical", "payments"}

            anyio.run(incidents.heal, IncidentKind.PAYMENT_OUTAGE)
            load.rate = 40  # successes push the 5-minute failure ratio back under 5 %

            hook = webhook.wait_for(_webhook("firing"), timeout=20, what="firing webhook")
            assert hook.body["commonLabels"]["alertname"] == ALERT
            for channel in ("#fanz-critical", "#fanz-payments"):
                slack.wait_for(
                    _slack(channel, f"[FIRING:1] {ALERT} on {PLATFORM}"), timeout=20, what=f"Slack {channel}"
                )

            resolved = webhook.wait_for(_webhook("resolved"), timeout=120, what="resolved webhook")
            for channel in ("#fanz-critical", "#fanz-payments"):
                slack.wait_for(
                    _slack(channel, f"[RESOLVED] {ALERT} on {PLATFORM}"), timeout=20, what=f"resolved {channel}"
                )
            assert _prometheus_alert(http, prom) is None
            print(
                f"\nfired {fired_at - injected_at:.1f} s after injection; "
                f"webhook {hook.at - injected_at:.1f} s; resolved {resolved.at - injected_at:.1f} s; "
                f"load outcomes {dict(load.outcomes)}"
            )
        finally:
            load.stop()
        assert load.count(502) >= 1  # the outage really failed payments
        assert load.count(0) == 0  # and the platform itself never stopped answering
