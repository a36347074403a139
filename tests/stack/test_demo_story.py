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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from typer.testing import CliRunner

from fanzwatch.cli import app
from fanzwatch.demo.incidents import IncidentController, IncidentKind, IncidentTargets
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.settings.demo import DemoSettings
from fanzwatch.settings.stack import StackSettings
from fanzwatch.stack import Stack

from ._load import PaymentLoad

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(300)]
PLATFORM = "fanz-1"


def poll(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not seen within {timeout:g} s (last: {last!r})")


def test_outage_notifies_on_call_fails_over_and_resolves(
    tmp_path: Path, ports: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = StackSettings(
        data_dir=tmp_path / "data",
        short_intervals=True,
        rate_window="15s",
        prometheus_port=ports["prometheus"],
        alertmanager_port=ports["alertmanager"],
        node_exporter_port=ports["node_exporter"],
        server_port=ports["server"],
        startup_timeout_seconds=90,
    )
    demo = DemoSettings(
        platform_port=ports["platform"],
        processor_port=ports["processor"],
        simulator_port=ports["simulator"],
        sinks_port=ports["sinks"],
        smtp_port=ports["smtp"],
        platforms=(PLATFORM, "fanz-2"),
        traffic=False,
        seed=3,
    )
    server = f"http://127.0.0.1:{ports['server']}"
    sinks = f"http://127.0.0.1:{ports['sinks']}"
    platform_url = f"http://127.0.0.1:{ports['platform']}"
    faults = IncidentController(
        IncidentTargets(platform_url=platform_url, processor_url=f"http://127.0.0.1:{ports['processor']}")
    )
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

            poll(enough, timeout=45, what="10 payment attempts")
            anyio.run(faults.inject, IncidentKind.PAYMENT_OUTAGE)
            injected_at = time.monotonic()

            opened = poll(incident, timeout=60, what="a PaymentFailureRate incident")
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

            messages = poll(delivered, timeout=30, what="Slack, PagerDuty and e-mail notifications")
            assert messages["email"][0]["to"] in ("ana@fanz.example", "ben@fanz.example")  # whoever is on call
            assert messages["pagerduty"][0]["title"].startswith("[trigger] [P0]")
            page = http.get(sinks).text
            assert number in page

            # The fix applied: the playbook switched the platform to the backup processor.
            poll(
                lambda: http.get(f"{platform_url}/admin/payment-processor").json()["active"] == "backup",
                timeout=30,
                what="failover to the backup processor",
            )
            failed_over_at = time.monotonic()
            # Payments succeed again: the alert resolves and the playbook verifies it.
            poll(
                lambda: any("verified" in e["message"] for e in (incident() or {}).get("timeline", [])),
                timeout=90,
                what="the failover verified",
            )
            # The primary's own health alert (correlated into the same incident) still fires until the
            # processor's vendor fixes it: then the incident resolves.
            anyio.run(faults.heal, IncidentKind.PAYMENT_OUTAGE)
            resolved = poll(
                lambda: (i := incident()) and i["status"] == "resolved" and i,
                timeout=150,  # the alert's window, then the incident's 30 s hold-down
                what="the incident resolved",
            )
            kinds = [e["kind"] for e in resolved["timeline"]]
            assert "PaymentFailureRate" in {a["alertname"] for a in resolved["alerts"]}
            for kind in ("opened", "notified", "remediation", "alert_resolved", "resolved"):
                assert kind in kinds, f"{kind} missing from the timeline: {kinds}"
            remediation = " | ".join(e["message"] for e in resolved["timeline"] if e["kind"] == "remediation")
            assert "backup processor" in remediation
            assert resolved["resolved_by"] == "alertmanager"
            poll(
                lambda: any(
                    "resolved" in m["title"] and number in m["title"] for m in http.get(f"{sinks}/api/messages").json()
                ),
                timeout=30,
                what="the resolution notified",
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
