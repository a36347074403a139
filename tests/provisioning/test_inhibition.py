"""Inhibition with the real Alertmanager: a critical alert mutes its own warning."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _waiting import wait_until
from fanzwatch.provisioning import render_all
from fanzwatch.provisioning.tools import ALERTMANAGER, find_binary

from .conftest import free_port, make_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """A real Alertmanager on a free loopback port with the rendered config."""
    port = free_port()
    out = tmp_path / "rendered"
    render_all(make_settings(), out)
    proc = subprocess.Popen(
        [
            find_binary(ALERTMANAGER),
            f"--config.file={out / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "alertmanager exited"
            assert time.monotonic() < deadline, "alertmanager did not become ready in 60 s"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _alert(severity: str, **labels: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": "HighErrorRate", "service": "fanz-platform", "severity": severity, **labels},
        "annotations": {"summary": f"{severity} test"},
    }


def _states(url: str) -> dict[tuple[str, str], dict[str, Any]]:
    alerts = httpx.get(f"{url}/api/v2/alerts", timeout=30).json()
    return {(a["labels"]["severity"], a["labels"].get("platform", "")): a["status"] for a in alerts}


def test_a_critical_alert_inhibits_the_matching_warning_only(alertmanager: str) -> None:
    posted = [
        _alert("critical", platform="fanz-1"),
        _alert("warning", platform="fanz-1"),  # same alert, same platform: muted
        _alert("warning", platform="fanz-2"),  # another platform: not muted
    ]
    assert httpx.post(f"{alertmanager}/api/v2/alerts", json=posted, timeout=5).status_code == 200
    # until Alertmanager has processed all three (each starts "unprocessed"), not only the muted one
    states = wait_until(
        lambda: _states(alertmanager),
        until=lambda states: (
            len(states) == 3
            and all(st["state"] != "unprocessed" for st in states.values())
            and states[("warning", "fanz-1")]["state"] == "suppressed"
        ),
        timeout=30,
        message="the warning on fanz-1 was never inhibited, or not all three alerts were processed",
        interval=0.1,
    )
    assert states[("critical", "fanz-1")]["state"] == "active"
    assert states[("critical", "fanz-1")]["inhibitedBy"] == []
    assert len(states[("warning", "fanz-1")]["inhibitedBy"]) == 1
    assert states[("warning", "fanz-2")]["state"] == "active"
    assert states[("warning", "fanz-2")]["inhibitedBy"] == []


def test_a_critical_anomaly_mutes_the_warning_anomaly_of_its_own_metric_only(alertmanager: str) -> None:
    def anomaly(severity: str, metric: str) -> dict[str, Any]:
        labels = {"alertname": "MetricAnomaly", "severity": severity, "platform": "fanz-1", "metric": metric}
        return {"labels": labels, "annotations": {"summary": f"{severity} {metric}"}}

    posted = [
        anomaly("critical", "payment_success_ratio"),
        anomaly("warning", "payment_success_ratio"),  # same metric: muted
        anomaly("warning", "p95_latency"),  # another metric of the same platform: not muted
    ]
    assert httpx.post(f"{alertmanager}/api/v2/alerts", json=posted, timeout=5).status_code == 200

    def states() -> dict[tuple[str, str], dict[str, Any]]:
        alerts = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=30).json()
        return {(a["labels"]["severity"], a["labels"]["metric"]): a["status"] for a in alerts}

    got = wait_until(
        states,
        until=lambda s: len(s) == 3 and all(st["state"] != "unprocessed" for st in s.values()),
        timeout=30,
        message="Alertmanager did not process the three anomaly alerts",
        interval=0.1,
    )
    assert {key: st["state"] for key, st in got.items()} == {
        ("critical", "payment_success_ratio"): "active",
        ("warning", "payment_success_ratio"): "suppressed",
        ("warning", "p95_latency"): "active",
    }


def _burn(tier: str, platform: str, slo: str = "checkout-success") -> dict[str, Any]:
    return {
        "labels": {
            "alertname": f"SLOErrorBudgetBurn{tier}",
            "service": "payments",
            "severity": "warning" if tier == "Slow" else "critical",
            "sloth_id": f"payments-{slo}",
            "sloth_slo": slo,
            "platform": platform,
        },
        "annotations": {"summary": f"{tier} burn test"},
    }


def test_a_faster_burn_rate_tier_inhibits_the_slower_ones_of_the_same_slo_and_platform(alertmanager: str) -> None:
    posted = [
        _burn("Fast", "fanz-1"),
        _burn("Medium", "fanz-1"),  # muted by Fast
        _burn("Slow", "fanz-1"),  # muted by Fast and Medium
        _burn("Slow", "fanz-2"),  # another platform: not muted
        _burn("Slow", "fanz-1", slo="subscription-renewal-success"),  # another SLO: not muted
    ]
    assert httpx.post(f"{alertmanager}/api/v2/alerts", json=posted, timeout=5).status_code == 200

    def states() -> dict[tuple[str, str, str], dict[str, Any]]:
        alerts = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=30).json()
        return {
            (a["labels"]["alertname"], a["labels"]["platform"], a["labels"]["sloth_slo"]): a["status"] for a in alerts
        }

    got = wait_until(
        states,
        until=lambda s: len(s) == 5 and all(st["state"] != "unprocessed" for st in s.values()),
        timeout=30,
        message="Alertmanager did not process the five burn-rate alerts",
        interval=0.1,
    )
    # Alertmanager names the first inhibiting alert it finds, one per muted alert.
    suppressed = {key: len(st["inhibitedBy"]) for key, st in got.items() if st["state"] == "suppressed"}
    assert suppressed == {
        ("SLOErrorBudgetBurnMedium", "fanz-1", "checkout-success"): 1,
        ("SLOErrorBudgetBurnSlow", "fanz-1", "checkout-success"): 1,
    }
