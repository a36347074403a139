"""The demo's story on the real stack: a processor outage pages the person on call over
Slack, PagerDuty and e-mail (the demo's sinks), the payment-failover playbook switches to
the backup processor for real, the payment alert resolves (verified), and once the primary
is fixed the incident resolves; all of it on the incident's timeline, and ``fanzwatch
remediation audit`` finds it from any directory.

Real Prometheus, Alertmanager, node_exporter, fanzwatch server, demo platform, processor
and sinks (child processes, as ``fanzwatch up --demo`` runs them). Short intervals and a
15 s rate window; payments at a steady 4/s from the test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from _waiting import wait_until
from fanzwatch.cli import app
from fanzwatch.demo.incidents import IncidentKind
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.stack import Stack

from ._load import PaymentLoad
from .conftest import demo_settings, incident_controller, stack_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(900)]
PLATFORM = "fanz-1"


def test_outage_notifies_on_call_fails_over_and_resolves(
    tmp_path: Path, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = stack_settings(tmp_path / "data", ports, rate_window="15s")
    demo = demo_settings(ports, traffic=False, seed=3)
    server = f"http://127.0.0.1:{ports['server']}"
    sinks = f"http://127.0.0.1:{ports['sinks']}"
    platform_url = f"http://127.0.0.1:{ports['platform']}"
    faults = incident_controller(ports)
    provisioning = ProvisioningSettings(slack=False, pagerduty=False, email=False)
    with Stack(settings, demo=demo, provisioning=provisioning) as stack, httpx.Client(timeout=5.0) as http:
        assert stack.urls()["notifications"] == f"{sinks}/"
        token = (settings.resolved_secrets_dir / "viewer_token").read_text().strip()
        auth = {"Authorization": f"Bearer {token}"}

        def incident() -> dict[str, Any] | None:
            """The incident holding the PaymentFailureRate alert (correlation may have renamed it)."""
            listed = http.get(f"{server}/api/v1/incidents", params={"limit": 10}, headers=auth).json()
            for summary in listed["incidents"]:
                detail: dict[str, Any] = http.get(f"{server}/api/v1/incidents/{summary['id']}", headers=auth).json()
                if any(a["alertname"] == "PaymentFailureRate" for a in detail["alerts"]):
                    return detail
            return None

        load = PaymentLoad(platform_url, PLATFORM, rate=4).start()
        try:
            attempts = f'platform:fanz_payment_transactions:increase5m{{platform="{PLATFORM}"}}'

            def enough() -> bool:
                result = http.get(f"{stack.urls()['prometheus']}/api/v1/query", params={"query": attempts}).json()
                return bool(result["data"]["result"]) and float(result["data"]["result"][0]["value"][1]) >= 10

            wait_until(enough, timeout=45, interval=0.5, message="10 payment attempts")
            anyio.run(faults.inject, IncidentKind.PAYMENT_OUTAGE)
            injected_at = time.monotonic()

            opened = wait_until(incident, timeout=60, interval=0.5, message="a PaymentFailureRate incident")
            assert opened["priority"] == "P0"
            number = f"Incident #{opened['id']}"

            # The person on call hears of it on every channel they have, over the real protocols.
            def delivered() -> dict[str, list[dict[str, Any]]]:
                got = http.get(f"{sinks}/api/messages").json()
                by: dict[str, list[dict[str, Any]]] = {}
                for m in got:
                    if number in m["title"]:
                        by.setdefault(m["channel"], []).append(m)
                return by if {"slack", "pagerduty", "email"} <= set(by) else {}

            messages = wait_until(
                delivered, timeout=30, interval=0.5, message="Slack, PagerDuty and e-mail notifications"
            )
            assert messages["email"][0]["to"] in ("ana@fanz.example", "ben@fanz.example")  # whoever is on call
            assert messages["pagerduty"][0]["title"].startswith("[trigger] [P0]")
            page = http.get(sinks).text
            assert number in page

            # The fix applied: the playbook switched the platform to the backup processor.
            wait_until(
                lambda: http.get(f"{platform_url}/admin/payment-processor").json()["active"] == "backup",
                timeout=30,
                interval=0.5,
                message="failover to the backup processor",
            )
            failed_over_at = time.monotonic()
            # Payments succeed again: the alert resolves and the playbook verifies it.
            wait_until(
                lambda: any("verified" in e["message"] for e in (incident() or {}).get("timeline", [])),
                timeout=90,
                interval=0.5,
                message="the failover verified",
            )
            # The primary's own health alert (correlated into the same incident) still fires until the
            # processor's vendor fixes it: then the incident resolves.
            anyio.run(faults.heal, IncidentKind.PAYMENT_OUTAGE)
            last: dict[str, Any] = {}

            def members() -> tuple[str | None, list[tuple[str, str | None, str]]]:
                """The incident's status and its alerts' states (shown if it never resolves)."""
                last.update(incident() or {})
                alerts = [(a["alertname"], a["labels"].get("platform"), a["status"]) for a in last.get("alerts", [])]
                return last.get("status"), alerts

            wait_until(
                members,
                until=lambda m: m[0] == "resolved",
                # every member must resolve: the payment alert's window, the next passing journey
                # (every 30 s), the checkout SLO's short burn window; then the 30 s hold-down
                timeout=420,
                interval=0.5,
                message="the incident resolved",
            )
            resolved = last
            kinds = [e["kind"] for e in resolved["timeline"]]
            assert "PaymentFailureRate" in {a["alertname"] for a in resolved["alerts"]}
            for kind in ("opened", "notified", "remediation", "alert_resolved", "resolved"):
                assert kind in kinds, f"{kind} missing from the timeline: {kinds}"
            remediation = " | ".join(e["message"] for e in resolved["timeline"] if e["kind"] == "remediation")
            assert "backup processor" in remediation
            assert resolved["resolved_by"] == "alertmanager"
            wait_until(
                lambda: any(
                    "resolved" in m["title"] and number in m["title"] for m in http.get(f"{sinks}/api/messages").json()
                ),
                timeout=30,
                interval=0.5,
                message="the resolution notified",
            )

            # The operator's view, from another directory: the audit finds the stack by itself.
            monkeypatch.chdir(tmp_path)
            audit = CliRunner().invoke(app, ["remediation", "audit"])
            assert audit.exit_code == 0, audit.output
            assert "payment-failover" in audit.output
            print(
                f"\nincident {opened['id']}: failed over {failed_over_at - injected_at:.1f} s after injection; "
                f"outcomes {dict(load.outcomes)}"
            )
        finally:
            load.stop()
        assert load.count(502) >= 1  # the outage really failed payments before the failover
