"""Rendering: deterministic, valid for promtool and amtool, secret-free, equal to the snapshots."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from fanzwatch.core import ConfigError
from fanzwatch.core.models import HOLD_ANNOTATION, parse_hold
from fanzwatch.provisioning import check_rendered, render_all, render_files

from .conftest import make_settings

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("FANZWATCH_UPDATE_SNAPSHOTS") == "1"

EXPECTED_FILES = {
    "prometheus.yml",
    "rules/recording.yml",
    "rules/service.yml",
    "rules/business.yml",
    "rules/infrastructure.yml",
    "rules/health.yml",
    "rules/anomaly.yml",
    "rules/probes.yml",
    "rules/telemetry.yml",
    "rules/slo-fanz-platform-api-availability.yml",
    "rules/slo-fanz-platform-api-latency.yml",
    "rules/slo-fanz-platform-probe-availability.yml",
    "rules/slo-payments-checkout-success.yml",
    "rules/slo-payments-journey-availability.yml",
    "rules/slo-payments-subscription-renewal-success.yml",
    "rules/slo-payments-payout-on-time.yml",
    "rules/slo-payments-ppv-unlock-latency.yml",
    "rules/slo-web-performance-lcp-budget.yml",
    "rules/slo-web-performance-inp-budget.yml",
    "rules/slo-web-performance-page-load-p95-budget.yml",
    "alertmanager.yml",
    "blackbox.yml",
    "grafana/dashboards/fanz-core.json",
    "grafana/dashboards/fanz-business.json",
    "grafana/provisioning/datasources/fanzwatch.yml",
    "grafana/provisioning/dashboards/fanzwatch.yml",
}


def test_rendered_files_equal_the_snapshots() -> None:
    files = render_files(make_settings())
    assert set(files) == EXPECTED_FILES
    if UPDATE:
        for rel, content in files.items():
            (SNAPSHOTS / rel).parent.mkdir(parents=True, exist_ok=True)
            (SNAPSHOTS / rel).write_bytes(content)
    on_disk = {str(p.relative_to(SNAPSHOTS)) for p in SNAPSHOTS.rglob("*") if p.is_file()}
    assert on_disk == EXPECTED_FILES, "snapshots out of date: FANZWATCH_UPDATE_SNAPSHOTS=1 pytest tests/provisioning"
    for rel, content in files.items():
        assert content.decode() == (SNAPSHOTS / rel).read_text(), f"{rel} differs from its snapshot"


def test_rendering_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first = render_all(make_settings(), tmp_path / "a")
    second = render_all(make_settings(), tmp_path / "b")
    again = render_all(make_settings(), tmp_path / "a")
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    for a, b, c in zip(first, second, again, strict=True):
        assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    assert not list((tmp_path / "a").rglob(".*.tmp")), "temporary files left behind"


def test_promtool_and_amtool_accept_the_output(rendered: Path) -> None:
    results = check_rendered(rendered)
    assert [r.returncode for r in results] == [0, 0, 0]
    assert "SUCCESS: 19 rule files found" in results[0].output
    for file, count in {
        "recording": 12,
        "service": 7,
        "business": 2,
        "infrastructure": 7,
        "health": 3,
        "telemetry": 3,
    }.items():
        assert f"Checking rules/{file}.yml\n  SUCCESS: {count} rules found" in results[0].output
    assert "Checking 'alertmanager.yml'  SUCCESS" in results[1].output
    assert " - 4 inhibit rules\n - 6 receivers" in results[1].output


def test_a_broken_file_is_reported_by_the_real_tools(tmp_path: Path) -> None:
    render_all(make_settings(), tmp_path)
    (tmp_path / "rules" / "health.yml").write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: 'up =='\n")
    with pytest.raises(ConfigError, match=r"(?s)promtool check config.*parse error"):
        check_rendered(tmp_path)


def test_secrets_are_referenced_by_file_never_written(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    sentinels = {
        "slack_api_url": "https://hooks.slack.com/services/T000/B000/SENTINEL-SLACK",
        "pagerduty_routing_key": "SENTINEL-PAGERDUTY",
        "smtp_password": "SENTINEL-SMTP",
        "webhook_token": "SENTINEL-WEBHOOK",
    }
    for name, value in sentinels.items():
        (secrets / name).write_text(value)
    settings = make_settings(secrets_dir=secrets, smtp_auth_username="alerts@fanz.com", webhook_token=True)
    files = render_files(settings)
    for content in files.values():
        assert b"SENTINEL" not in content
    am = yaml.safe_load(files["alertmanager.yml"])
    assert am["global"]["slack_api_url_file"] == str(secrets / "slack_api_url")
    assert am["global"]["smtp_auth_password_file"] == str(secrets / "smtp_password")
    critical = next(r for r in am["receivers"] if r["name"] == "critical")
    assert critical["pagerduty_configs"][0]["routing_key_file"] == str(secrets / "pagerduty_routing_key")
    fanzwatch = next(r for r in am["receivers"] if r["name"] == "fanzwatch")
    assert fanzwatch["webhook_configs"][0] == {
        "send_resolved": True,
        "url": "http://127.0.0.1:8900/api/v1/alerts/webhook",
        "max_alerts": 0,
        "http_config": {"authorization": {"type": "Bearer", "credentials_file": str(secrets / "webhook_token")}},
    }
    inline_secret_fields = {
        "slack_api_url",
        "api_url",
        "routing_key",
        "service_key",
        "smtp_auth_password",
        "auth_password",
        "credentials",
    }
    assert not _keys(am) & inline_secret_fields


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_integrations_can_be_turned_off(tmp_path: Path) -> None:
    settings = make_settings(slack=False, pagerduty=False, email=False)
    render_all(settings, tmp_path)
    check_rendered(tmp_path)
    am = yaml.safe_load((tmp_path / "alertmanager.yml").read_text())
    assert am["global"] == {"resolve_timeout": "5m"}
    assert {r["name"]: sorted(set(r) - {"name"}) for r in am["receivers"]} == {
        "fanzwatch": ["webhook_configs"],
        "default": [],
        "critical": [],
        "payments": [],
        "business": [],
        "anomalies": [],
    }


def test_intervals_targets_and_for_scale_reach_the_files() -> None:
    settings = make_settings(
        scrape_interval=timedelta(seconds=1), evaluation_interval=timedelta(milliseconds=500), for_scale=0.01
    )
    files = render_files(settings)
    prom = yaml.safe_load(files["prometheus.yml"])
    assert prom["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "500ms"}
    assert {job["job_name"]: job["static_configs"][0]["targets"] for job in prom["scrape_configs"]} == {
        "fanzwatch": ["127.0.0.1:8900"],
        "fanz-platform": ["127.0.0.1:8001", "127.0.0.1:8002"],
        "payment-processor": ["127.0.0.1:8010"],
        "node": ["127.0.0.1:9100"],
        "alertmanager": ["127.0.0.1:9093"],
        "prometheus": ["127.0.0.1:9090"],
        "blackbox-http_2xx": ["http://127.0.0.1:8001/health/ready"],
        "blackbox-tcp_connect": ["127.0.0.1:8010"],
    }
    rules = yaml.safe_load(files["rules/business.yml"])["groups"][0]["rules"]
    assert [(r["alert"], r["for"]) for r in rules] == [("LowUserRegistrations", "18s"), ("PaymentFailureRate", "600ms")]


def test_jobs_without_targets_are_not_scraped() -> None:
    settings = make_settings()
    files = render_files(
        settings.model_copy(
            update={"targets": settings.targets.model_copy(update={"payment_processor": (), "node_exporter": ()})}
        )
    )
    jobs = [job["job_name"] for job in yaml.safe_load(files["prometheus.yml"])["scrape_configs"]]
    assert jobs == ["fanzwatch", "fanz-platform", "alertmanager", "prometheus", "blackbox-http_2xx"]
    no_exporter = settings.targets.model_copy(update={"blackbox": None})
    files = render_files(settings.model_copy(update={"targets": no_exporter}))
    jobs = [job["job_name"] for job in yaml.safe_load(files["prometheus.yml"])["scrape_configs"]]
    assert jobs == ["fanzwatch", "fanz-platform", "payment-processor", "node", "alertmanager", "prometheus"]


def test_probes_are_generated_from_the_targets_and_scraped_through_the_exporter() -> None:
    settings = make_settings(
        probe_platforms=("fanz-1", "fanz-2"), probe_urls=("https://fanz.test/",), probe_dns_server="10.0.0.53:53"
    )
    files = render_files(settings)
    jobs = {j["job_name"]: j for j in yaml.safe_load(files["prometheus.yml"])["scrape_configs"]}
    page = jobs["blackbox-http_platform_page"]
    assert page == {
        "job_name": "blackbox-http_platform_page",
        "scrape_interval": "15s",
        "scrape_timeout": "10s",
        "metrics_path": "/probe",
        "scheme": "http",
        "params": {"module": ["http_platform_page"]},
        "static_configs": [
            {"targets": [f"http://127.0.0.1:{port}/p/{p}/"], "labels": {"probe": "platform-page", "platform": p}}
            for port in (8001, 8002)
            for p in ("fanz-1", "fanz-2")
        ],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": "127.0.0.1:9115"},
        ],
    }
    targets = {
        name: [(c["targets"][0], c["labels"]["probe"]) for c in j["static_configs"]]
        for name, j in jobs.items()
        if name.startswith("blackbox-")
    }
    assert targets["blackbox-http_2xx"] == [
        ("http://127.0.0.1:8001/health/ready", "platform-ready"),
        ("http://127.0.0.1:8002/health/ready", "platform-ready"),
        ("http://127.0.0.1:8010/health", "processor-health"),
        ("http://127.0.0.1:8900/health/live", "fanzwatch-live"),
    ]
    assert targets["blackbox-tcp_connect"] == [("127.0.0.1:8010", "processor-tcp")]
    assert targets["blackbox-https_2xx"] == [("https://fanz.test/", "url")]
    assert targets["blackbox-dns_fanz_test"] == [("10.0.0.53:53", "dns")]
    modules = yaml.safe_load(files["blackbox.yml"])["modules"]
    assert sorted(modules) == ["dns_fanz_test", "http_2xx", "http_platform_page", "https_2xx", "tcp_connect"]
    assert modules["http_platform_page"]["http"]["fail_if_body_not_matches_regexp"] == ["<h1>Creators on "]
    assert modules["https_2xx"]["http"]["fail_if_not_ssl"] is True
    assert modules["dns_fanz_test"]["dns"]["query_name"] == "fanz.test"


def test_stale_rendered_files_are_removed_and_others_kept(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "old-group.yml").write_text("groups: []\n")
    (tmp_path / "grafana" / "dashboards").mkdir(parents=True)
    (tmp_path / "grafana" / "dashboards" / "old.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("mine")
    render_all(make_settings(), tmp_path)
    assert not (tmp_path / "rules" / "old-group.yml").exists()
    assert not (tmp_path / "grafana" / "dashboards" / "old.json").exists()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_output_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        render_all(make_settings(), target)


@pytest.mark.parametrize("for_scale", [1.0, 0.01])
def test_every_alert_carries_its_scaled_hold_as_an_annotation(for_scale: float) -> None:
    """Correlation reads the ``hold`` annotation to tell when an alert began (``startsAt`` is when it fired)."""
    files = render_files(make_settings().model_copy(update={"for_scale": for_scale}))
    rules = [
        rule
        for rel, content in files.items()
        if rel.startswith("rules/")
        for group in yaml.safe_load(content)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert len(rules) > 30
    for rule in rules:
        assert rule["annotations"][HOLD_ANNOTATION] == rule["for"], rule["alert"]
        assert parse_hold(rule["for"]) > timedelta(0) or rule["for"] == "0s", rule["alert"]
    if for_scale == 0.01:
        five = [r for r in rules if r["alert"] == "HealthCheckFailing" and r["labels"]["severity"] == "warning"]
        assert five[0]["annotations"][HOLD_ANNOTATION] == "3s"  # 5 min × 0.01
