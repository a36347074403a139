"""The whole system, end to end: a payment processor outage pages people, and healing resolves it.

Real Prometheus, Alertmanager and node_exporter; the real fanzwatch server, demo platform,
processor and traffic simulator as child processes; real HTTP receivers in the test: an
extra webhook (configured through provisioning, with a bearer token read from a file)
and Slack (its incoming-webhook URL is the secret file Alertmanager reads). Short
intervals: 1 s scrape, evaluation and grouping, alert holds ×0.02; rate windows of 15 s
(the short pace's default is 30 s; the shorter one halves this test's wait), so the alert
resolves about one window after healing, at a modest steady payment load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from _waiting import wait_until
from fanzwatch.demo.incidents import IncidentKind
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.settings.provisioning import ExtraWebhook
from fanzwatch.stack import Stack

from ._load import PaymentLoad
from ._receivers import Received, recording_receiver
from .conftest import demo_settings, incident_controller, stack_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(240)]
ALERT = "PaymentFailureRate"
PLATFORM = "fanz-1"
TOKEN = "e2e-webhook-token-3f9a"
HOOK_PATH = "/hooks/alertmanager"
WINDOW = "15s"


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
            m.path == HOOK_PATH
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
    (secrets / "e2e_webhook_token").write_text(TOKEN)
    settings = stack_settings(tmp_path / "data", ports, rate_window=WINDOW, secrets_dir=secrets, stop_grace_seconds=10)
    provisioning = ProvisioningSettings(
        extra_webhooks=(
            ExtraWebhook(
                url=f"http://127.0.0.1:{ports['webhook']}{HOOK_PATH}", bearer_token_file=Path("e2e_webhook_token")
            ),
        ),
        email=False,
    )
    demo = demo_settings(ports, seed=11)
    prom = f"http://127.0.0.1:{ports['prometheus']}"
    am = f"http://127.0.0.1:{ports['alertmanager']}"
    platform_url = f"http://127.0.0.1:{ports['platform']}"
    incidents = incident_controller(ports)
    with (
        recording_receiver(ports["webhook"]) as webhook,
        recording_receiver(ports["slack"], answer=b"ok") as slack,
        Stack(settings, demo=demo, provisioning=provisioning) as stack,
        httpx.Client(timeout=5.0) as http,
    ):
        assert set(stack.urls()) == {
            "node_exporter",
            "alertmanager",
            "prometheus",
            "telemetry_store",
            "server",
            "processor",
            "platform",
            "simulator",
            "notifications",
            "blackbox",
            "prober",
        }
        load = PaymentLoad(platform_url, PLATFORM, rate=4).start()
        try:
            # The alert needs 10 attempts in its window before a failure ratio means anything.
            attempts = f'platform:fanz_payment_transactions:increase5m{{platform="{PLATFORM}"}}'
            wait_until(
                lambda: (_query(http, prom, attempts) or 0) >= 10,
                timeout=30,
                interval=0.2,
                message="10 payment attempts",
            )
            # The real server and the processor (its /metrics through the SDK) are scraped.
            for job in ("fanzwatch", "payment-processor"):
                wait_until(
                    lambda job=job: _query(http, prom, f'up{{job="{job}"}}') == 1,
                    timeout=10,
                    interval=0.2,
                    message=f"{job} up",
                )
            assert _prometheus_alert(http, prom) is None

            injected_at = time.monotonic()
            anyio.run(incidents.inject, IncidentKind.PAYMENT_OUTAGE)

            firing = wait_until(
                lambda: (a := _prometheus_alert(http, prom)) and a["state"] == "firing" and a,
                timeout=45,
                interval=0.2,
                message=f"{ALERT} firing in Prometheus",
            )
            fired_at = time.monotonic()
            assert firing["labels"]["severity"] == "critical"
            assert firing["labels"]["service"] == "payments"
            assert float(firing["value"]) > 0.05
            assert "over the last 15 seconds" in firing["annotations"]["description"]

            in_am = wait_until(
                lambda: http.get(f"{am}/api/v2/alerts", params={"filter": f'alertname="{ALERT}"'}).json(),
                timeout=15,
                interval=0.2,
                message=f"{ALERT} in Alertmanager",
            )
            assert {a["labels"]["platform"] for a in in_am} == {PLATFORM}
            assert in_am[0]["status"]["state"] == "active"
            assert {r["name"] for r in in_am[0]["receivers"]} == {"fanzwatch", "extra-webhooks", "critical", "payments"}

            anyio.run(incidents.heal, IncidentKind.PAYMENT_OUTAGE)
            healed_at = time.monotonic()

            hook = webhook.wait_for(_webhook("firing"), timeout=20, what="firing webhook")
            assert hook.body["commonLabels"]["alertname"] == ALERT
            assert hook.authorization == f"Bearer {TOKEN}"
            for channel in ("#fanz-critical", "#fanz-payments"):
                slack.wait_for(
                    _slack(channel, f"[FIRING:1] {ALERT} on {PLATFORM}"),
                    timeout=20,
                    what=f"Slack {channel}",
                )

            # Same 4/s load: the failures leave the 15 s window and the alert resolves.
            resolved = webhook.wait_for(_webhook("resolved"), timeout=45, what="resolved webhook")
            assert resolved.authorization == f"Bearer {TOKEN}"
            for channel in ("#fanz-critical", "#fanz-payments"):
                slack.wait_for(
                    _slack(channel, f"[RESOLVED] {ALERT} on {PLATFORM}"),
                    timeout=20,
                    what=f"resolved {channel}",
                )
            assert _prometheus_alert(http, prom) is None
            # The server stayed up through it all (it got the same alerts on its own route).
            assert http.get(f"http://127.0.0.1:{ports['server']}/health/live").status_code == 200
            print(
                f"\nfired {fired_at - injected_at:.1f} s after injection; "
                f"webhook {hook.at - injected_at:.1f} s; resolved {resolved.at - healed_at:.1f} s after healing; "
                f"load outcomes {dict(load.outcomes)}"
            )
        finally:
            load.stop()
        assert load.count(502) >= 1  # the outage really failed payments
        assert load.count(0) == 0  # and the platform itself never stopped answering
