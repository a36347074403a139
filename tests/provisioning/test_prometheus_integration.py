"""The real Prometheus loads the rendered rules, scrapes an app instrumented with the SDK,
and a payment failure we cause goes pending, then firing (seen through its HTTP API)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from fanzwatch.provisioning import StackTargets, render_all
from fanzwatch.provisioning.tools import PROMETHEUS, find_binary
from fanzwatch.sdk.testing import TelemetryCapture, make_test_telemetry

from .conftest import free_port, make_settings

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]


def _wait_for(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def app() -> Iterator[tuple[TelemetryCapture, int]]:
    """A FANZ service for platform fanz-1, its metrics on a free port, via the SDK."""
    port = free_port()
    cap = make_test_telemetry(service_name="checkout", platform="fanz-1", platforms=("fanz-1",), metrics_port=port)
    try:
        yield cap, port
    finally:
        cap.telemetry.shutdown()


@pytest.fixture
def prometheus(tmp_path: Path, app: tuple[TelemetryCapture, int]) -> Iterator[str]:
    _, app_port = app
    port = free_port()
    settings = make_settings(
        targets=StackTargets(
            fanzwatch=f"127.0.0.1:{free_port()}",  # nothing listens: TargetDown, not our concern here
            prometheus=f"127.0.0.1:{port}",
            alertmanager=f"127.0.0.1:{free_port()}",
            platforms=(f"127.0.0.1:{app_port}",),
            node_exporter=(),
        ),
        scrape_interval=timedelta(seconds=1),
        evaluation_interval=timedelta(seconds=1),
        for_scale=0.05,  # PaymentFailureRate holds 1m → 3s
    )
    out = tmp_path / "rendered"
    render_all(settings, out)
    proc = subprocess.Popen(
        [
            find_binary(PROMETHEUS),
            f"--config.file={out / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            assert proc.poll() is None, "prometheus exited"
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        _wait_for("prometheus to be ready", ready, 20)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _payment_alerts(url: str) -> list[dict[str, Any]]:
    alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == "PaymentFailureRate"]


def test_payment_failures_go_pending_then_firing(prometheus: str, app: tuple[TelemetryCapture, int]) -> None:
    cap, _ = app
    business = cap.telemetry.business

    def pay(status: str) -> None:
        business.record_payment(amount=9.99, currency="USD", payment_type="tip", status=status)  # type: ignore[arg-type]

    # Every rendered rule loads and evaluates without error against the real server.
    groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert sorted(g["name"] for g in groups) == [
        "fanzwatch.anomaly",
        "fanzwatch.business",
        "fanzwatch.health",
        "fanzwatch.infrastructure",
        "fanzwatch.probes",
        "fanzwatch.recording",
        "fanzwatch.service",
        "fanzwatch.slo-fanz-platform-api-availability",
        "fanzwatch.slo-fanz-platform-api-latency",
        "fanzwatch.slo-fanz-platform-probe-availability",
        "fanzwatch.slo-payments-checkout-success",
        "fanzwatch.slo-payments-journey-availability",
        "fanzwatch.slo-payments-payout-on-time",
        "fanzwatch.slo-payments-ppv-unlock-latency",
        "fanzwatch.slo-payments-subscription-renewal-success",
        "fanzwatch.slo-web-performance-inp-budget",
        "fanzwatch.slo-web-performance-lcp-budget",
        "fanzwatch.slo-web-performance-page-load-p95-budget",
        "fanzwatch.telemetry",
    ]
    # + the anomaly meta-alerts, + the probe rules, + the SLOs (18 rules each, 21 with money,
    # 17 for the performance budgets with their two tiers)
    # + the traces and logs pipeline's alerts
    assert sum(len(g["rules"]) for g in groups) == 12 + 19 + 4 + 9 + 6 * 18 + 2 * 21 + 3 * 17 + 3

    # Healthy traffic first; Prometheus must see the counters before they move, as a
    # counter's first scraped value is its baseline. (Prometheus's discovery hands the
    # first targets to the scraper after ~5 s: most of this test's time.)
    pay("completed")
    pay("failed")
    _wait_for(
        "the payment counters to be scraped",
        # completed, failed, and declined at 0: every outcome's series exists from the first attempt
        # (of every payment type: the tip's three are this test's)
        lambda: len(_query(prometheus, 'fanz_payment_transactions_total{platform="fanz-1", payment_type="tip"}')) == 3,
        15,
    )
    assert _payment_alerts(prometheus) == []

    for _ in range(30):
        pay("failed")

    pending = _wait_for(
        "PaymentFailureRate to go pending",
        lambda: [a for a in _payment_alerts(prometheus) if a["state"] == "pending"],
        15,
    )
    firing = _wait_for(
        "PaymentFailureRate to fire",
        lambda: [a for a in _payment_alerts(prometheus) if a["state"] == "firing"],
        15,
    )
    for seen in (pending, firing):
        assert len(seen) == 1
        assert seen[0]["labels"] == {
            "alertname": "PaymentFailureRate",
            "platform": "fanz-1",
            "priority": "P0",
            "service": "payments",
            "severity": "critical",
        }
    assert firing[0]["annotations"]["runbook_url"] == "https://runbooks.fanz.test/PaymentFailureRate.md"
    assert float(firing[0]["value"]) > 0.9  # nearly every attempt failed

    rules = [r for g in httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"] for r in g["rules"]]
    assert len(rules) == 12 + 19 + 4 + 9 + 6 * 18 + 2 * 21 + 3 * 17 + 3  # + anomaly, probes, SLOs, pipeline
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
