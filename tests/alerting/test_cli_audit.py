"""``fanzwatch remediation audit``: the decisions, newest first, as text and as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._fakes import FakePagerDuty, FakePlatformAdmin
from ._helpers import API_TOKEN, Harness, am_alert, am_payload, api_client, post_alerts
from .test_cli import cli, serving
from .test_remediation import failover, settings_with


@pytest.fixture
def platform_admin() -> Iterator[FakePlatformAdmin]:
    a = FakePlatformAdmin()
    yield a
    a.close()


async def test_audit_lists_the_decisions(
    harness: Harness, pagerduty: FakePagerDuty, platform_admin: FakePlatformAdmin, tmp_path: Path
) -> None:
    admin = platform_admin
    svc = harness.service(settings_with(pagerduty, failover(admin), remediation={"dry_run": True}, api_token=API_TOKEN))
    env = {"FANZWATCH_ALERTING_API_TOKEN": API_TOKEN}
    async with serving(svc, tmp_path / "secrets") as url:
        empty = await cli("remediation", "audit", "--server", url, env=env)
        async with api_client(svc) as c:
            await post_alerts(c, am_payload(am_alert()))
            await svc.tick()
        text = await cli("remediation", "audit", "--server", url, env=env)
        as_json = await cli("remediation", "audit", "--server", url, "--json", env=env)
        other = await cli("remediation", "audit", "--playbook", "flush-cache", "--server", url, env=env)
        bad = await cli("remediation", "audit", "--limit", "0", "--server", url, env=env)
    assert (empty.exit_code, empty.output) == (0, "no remediation decisions yet\n")
    assert text.exit_code == 0, text.output
    header, row = text.output.splitlines()
    assert header.split() == ["AT", "INCIDENT", "PLAYBOOK", "DECISION", "REASON"]
    assert row.split()[2:6] == ["#1", "payment-failover", "dry_run", "would"]
    assert f"PUT {admin.base_url}/admin/payment-processor" in row
    assert [d["decision"] for d in json.loads(as_json.output)["decisions"]] == ["dry_run"]
    assert other.output == "no remediation decisions yet for playbook flush-cache\n"
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
