"""End to end on the demo stack: a payment processor outage is remediated without a human.

The real stack (``fanzwatch.stack.Stack``: Prometheus, Alertmanager, node_exporter, the
demo platform and its payment processor, provisioning rendered by fanzwatch) with the
alerting service listening where the server's webhook lives, authenticated by the
bearer token Alertmanager reads from its secret file. PagerDuty and Slack are local fakes.

outage → PaymentFailureRate fires → webhook → incident P0 → primary paged → the
failover playbook switches the platform to the backup processor → payments succeed →
the alert resolves → the incident resolves, and the whole story is on its timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from fanzwatch.alerting import AlertingService, build_router
from fanzwatch.core.clock import SystemClock
from fanzwatch.demo.incidents import IncidentKind
from fanzwatch.provisioning import ProvisioningSettings
from fanzwatch.stack import Stack
from fanzwatch.store import create_store_engine, upgrade
from stack._load import PaymentLoad
from stack.conftest import demo_settings, incident_controller, named_free_ports, stack_settings

from ._fakes import FakePagerDuty, FakeSlack
from ._helpers import base_settings, eventually

pytestmark = [pytest.mark.prometheus, pytest.mark.slow, pytest.mark.timeout(300)]
PLATFORM = "fanz-1"


@contextlib.asynccontextmanager
async def alerting_server(svc: AlertingService, registry: CollectorRegistry, port: int) -> AsyncIterator[None]:
    """What the fanzwatch server would serve here: the alerting router and /metrics (scraped)."""
    app = FastAPI()
    app.include_router(build_router(lambda: svc))

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the alerting server did not start"
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def fakes() -> Iterator[tuple[FakePagerDuty, FakeSlack]]:
    pd, slack = FakePagerDuty(), FakeSlack()
    yield pd, slack
    pd.close()
    slack.close()


def _query(http: httpx.Client, prom: str, expr: str) -> float:
    result = http.get(f"{prom}/api/v1/query", params={"query": expr}).json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


async def test_payment_outage_is_failed_over_and_the_incident_resolves(
    tmp_path: Path, fakes: tuple[FakePagerDuty, FakeSlack]
) -> None:
    pagerduty, slack = fakes
    ports = named_free_ports()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "webhook_token").write_text("e2e-webhook-token\n")
    platform_url = f"http://127.0.0.1:{ports['platform']}"
    prom = f"http://127.0.0.1:{ports['prometheus']}"

    store = f"sqlite:///{tmp_path / 'fanzwatch.db'}"
    await asyncio.to_thread(upgrade, store)
    engine = create_store_engine(store)
    settings = base_settings(
        webhook_token={"file": str(secrets / "webhook_token")},
        channels=[
            {"kind": "pagerduty", "name": "pd", "url": pagerduty.url, "routing_key": "R0UT1NGKEY"},
            {"kind": "slack", "name": "ops-slack", "url": slack.url},
        ],
        users=[{"name": "ana", "notify": ["pd", "ops-slack"]}],
        schedules=[{"name": "primary", "users": ["ana"]}],
        remediation={
            "playbooks": [
                {
                    "name": "payment-failover",
                    "matchers": ['alertname="PaymentFailureRate"', 'service="payments"'],
                    "action": {"kind": "payment_failover", "platform_url": platform_url},
                    "label_rules": {"platform": "fanz-[0-9]{1,2}"},
                    "verify_within": "4m",
                }
            ]
        },
        tick_interval="1s",
    )
    settings_of_stack = stack_settings(
        tmp_path / "stack",
        ports,
        run_server=False,  # the alerting service below serves the server's port
        secrets_dir=secrets,
    )
    demo = demo_settings(ports, traffic=False, seed=5)
    provisioning = ProvisioningSettings(webhook_token=True, slack=False, pagerduty=False, email=False)
    incidents = incident_controller(ports)
    stack = Stack(settings_of_stack, demo=demo, provisioning=provisioning)
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0)) as http:
        registry = CollectorRegistry()
        svc = AlertingService(settings, engine, http, registry, SystemClock(), platforms=demo.platforms)
        await svc.start()
        tips: PaymentLoad | None = None
        try:
            async with alerting_server(svc, registry, ports["server"]):
                await asyncio.to_thread(stack.start)
                rendered = (stack.paths.config / "alertmanager.yml").read_text()
                assert f"credentials_file: {secrets / 'webhook_token'}" in rendered
                tips = await asyncio.to_thread(PaymentLoad(platform_url, PLATFORM, rate=10).start)
                with httpx.Client(timeout=5.0) as sync_http:
                    attempts = f'platform:fanz_payment_transactions:increase5m{{platform="{PLATFORM}"}}'
                    await eventually(
                        "10 payment attempts in Prometheus",
                        lambda: asyncio.to_thread(lambda: _query(sync_http, prom, attempts) >= 10),
                        within=60,
                    )
                tips.rate = 4  # few failures during the outage, so few successes dilute them afterwards
                await incidents.inject(IncidentKind.PAYMENT_OUTAGE)
                injected = time.monotonic()

                opened = await eventually("the payment incident", lambda: _payment_incident(svc), within=90)
                assert (opened["priority"], opened["platform"], opened["title"]) == (
                    "P0",
                    PLATFORM,
                    "PaymentFailureRate on fanz-1",
                )
                opened_after = time.monotonic() - injected
                await eventually("the failover", lambda: _active_is_backup(http, platform_url), within=60)
                failed_over_after = time.monotonic() - injected
                tips.rate = 40  # successes through the backup push the 5-minute failure ratio under 5 %
                resolved = await eventually(
                    "the incident resolved", lambda: _payment_incident(svc, "resolved"), within=180
                )
                resolved_after = time.monotonic() - injected
                print(
                    f"\nincident opened {opened_after:.1f} s after the outage began, failed over at "
                    f"{failed_over_after:.1f} s, resolved at {resolved_after:.1f} s; payments {dict(tips.outcomes)}"
                )
                key = f"fanzwatch-incident-{opened['id']}"
                await eventually("PagerDuty resolve", lambda: ("resolve", key) in pagerduty.events())
        finally:
            if tips is not None:
                tips.stop()
            await asyncio.to_thread(stack.stop)
            await svc.stop()
            await engine.dispose()

    kinds = [e["kind"] for e in resolved["timeline"]]
    story = [k for k in kinds if k in ("opened", "alert_fired", "priority", "notifying", "alert_resolved", "resolved")]
    assert story == ["opened", "alert_fired", "priority", "notifying", "alert_resolved", "resolved"]
    remediation = [(e["data"]["decision"], e["message"]) for e in resolved["timeline"] if e["kind"] == "remediation"]
    assert [d for d, _ in remediation] == ["executed", "succeeded", "verified"]
    assert remediation[1][1].startswith(
        "Remediation payment-failover (payment_failover): succeeded: payments now go through the backup processor"
    )
    assert kinds.index("alert_resolved") < kinds.index("resolved")
    assert resolved["resolved_by"] == "alertmanager"
    assert resolved["alerts"][0]["labels"]["severity"] == "critical"
    assert [e for e in pagerduty.events() if e[1] == key] == [("trigger", key), ("resolve", key)]
    assert tips is not None and tips.outcomes[502] >= 1  # the outage really failed payments
    assert tips.outcomes[201] + tips.outcomes[200] > tips.outcomes[502]  # and the backup carried them after


async def _active_is_backup(http: httpx.AsyncClient, platform_url: str) -> bool:
    answer = await http.get(f"{platform_url}/admin/payment-processor")
    return bool(answer.json()["active"] == "backup")


async def _payment_incident(svc: AlertingService, status: str | None = None) -> dict[str, Any] | None:
    """The incident of PaymentFailureRate on fanz-1 (other alerts may open their own)."""
    listed, _ = await svc.queries.page(status=status, limit=100)
    ids = [i["id"] for i in listed if i["title"] == "PaymentFailureRate on fanz-1"]
    return await svc.queries.get(ids[0]) if ids else None
