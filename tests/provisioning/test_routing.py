"""Alertmanager routing, checked by the real ``amtool config routes test``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from fanzwatch.provisioning.tools import AMTOOL, find_binary


def _receivers(rendered: Path, labels: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [
            find_binary(AMTOOL),
            "config",
            "routes",
            "test",
            f"--config.file={rendered / 'alertmanager.yml'}",
            *(f"{k}={v}" for k, v in labels.items()),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return proc.stdout.strip().split(",")


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        # continue: true → a critical payment alert pages AND reaches the payments channel
        (
            {"alertname": "PaymentFailureRate", "severity": "critical", "service": "payments", "platform": "fanz-1"},
            ["fanzwatch", "critical", "payments"],
        ),
        (
            {"alertname": "TargetDown", "severity": "critical", "service": "payments", "job": "payment-processor"},
            ["fanzwatch", "critical", "payments"],
        ),
        ({"alertname": "HealthCheckFailing", "severity": "warning", "service": "payments"}, ["fanzwatch", "payments"]),
        ({"alertname": "HighErrorRate", "severity": "critical", "service": "fanz-platform"}, ["fanzwatch", "critical"]),
        (
            {"alertname": "LowUserRegistrations", "severity": "warning", "service": "business"},
            ["fanzwatch", "business"],
        ),
        (
            {"alertname": "HighResponseTime", "severity": "warning", "service": "fanz-platform"},
            ["fanzwatch", "default"],
        ),
        # the anomaly engine's alerts never page, whatever severity the detector guessed
        (
            {
                "alertname": "MetricAnomaly",
                "metric": "payment_success_ratio",
                "platform": "fanz-1",
                "severity": "critical",
                "priority": "P0",
                "service": "fanzwatch-anomaly",
            },
            ["fanzwatch", "anomalies"],
        ),
        ({"alertname": "Unknown"}, ["fanzwatch", "default"]),
        # critical alerts page instead of landing in the general channel as well
        ({"alertname": "TargetDown", "severity": "critical", "service": "monitoring"}, ["fanzwatch", "critical"]),
    ],
)
def test_alerts_reach_the_right_receivers(rendered: Path, labels: dict[str, str], receivers: list[str]) -> None:
    assert _receivers(rendered, labels) == receivers


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_routes_and_inhibitions_use_matchers_not_the_deprecated_match(rendered: Path) -> None:
    config = yaml.safe_load((rendered / "alertmanager.yml").read_text())
    keys = _keys(config["route"]) | _keys(config["inhibit_rules"])
    assert {"matchers", "source_matchers", "target_matchers"} <= keys
    assert not keys & {"match", "match_re", "source_match", "source_match_re", "target_match", "target_match_re"}
