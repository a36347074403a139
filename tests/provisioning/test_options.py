"""The rate window and the extra webhooks: rendered exactly, accepted by promtool and amtool."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from fanzwatch.core import ConfigError
from fanzwatch.provisioning import check_rendered, render_all, render_files
from fanzwatch.provisioning.tools import AMTOOL, PROMTOOL, find_binary
from fanzwatch.settings.provisioning import ExtraWebhook, ProvisioningSettings

from .conftest import make_settings

SHORT = {
    "scrape_interval": timedelta(seconds=1),
    "evaluation_interval": timedelta(seconds=1),
    "rate_window": timedelta(seconds=30),
}


def _rules(files: dict[str, bytes], name: str) -> dict[str, dict[str, Any]]:
    """``{record or alert name/severity: rule}`` of one rendered rule file."""
    group = yaml.safe_load(files[f"rules/{name}.yml"])["groups"][0]
    out: dict[str, dict[str, Any]] = {}
    for rule in group["rules"]:
        key = rule.get("record") or f"{rule['alert']}/{rule['labels']['severity']}"
        out[key] = rule
    return out


def test_a_short_rate_window_shortens_every_short_term_rate_and_nothing_else() -> None:
    files = render_files(make_settings(**SHORT))
    recording = _rules(files, "recording")
    assert recording["platform:fanz_payment_transactions_failed:ratio_rate5m"]["expr"] == (
        "(\n"
        '  sum by (platform) (rate(fanz_payment_transactions_total{status="failed"}[30s]))\n'
        "  or 0 * sum by (platform) (rate(fanz_payment_transactions_total[30s]))\n"
        ")\n"
        "/ sum by (platform) (rate(fanz_payment_transactions_total[30s]))"
    )
    assert recording["platform:fanz_payment_transactions:increase5m"]["expr"] == (
        "sum by (platform) (increase(fanz_payment_transactions_total[30s]))"
    )
    assert recording["platform:http_server_request_duration_seconds:p95_5m"]["expr"] == (
        "histogram_quantile(0.95, sum by (platform, le) (rate(http_server_request_duration_seconds_bucket[30s])))"
    )
    # An hour of registrations stays an hour; same hour last week stays a week ago.
    assert recording["platform:fanz_user_registrations:increase1h"]["expr"] == (
        "sum by (platform) (increase(fanz_user_registrations_total[1h]))"
    )
    assert "offset 1w" in _rules(files, "business")["LowUserRegistrations/warning"]["expr"]
    for name in ("recording", "service", "business"):
        assert "[5m]" not in files[f"rules/{name}.yml"].decode(), name
    # Descriptions name the window the value was computed over.
    payment = _rules(files, "business")["PaymentFailureRate/critical"]
    assert payment["annotations"]["description"] == (
        "{{ $value | humanizePercentage }} of payment attempts on {{ $labels.platform }} failed "
        "in processing over the last 30 seconds (threshold 5%)."
    )
    assert _rules(files, "service")["HighErrorRate/critical"]["annotations"]["description"].endswith(
        "with a 5xx status over the last 30 seconds (threshold 5%)."
    )
    # Dashboards keep their own windows; the defaults render exactly as before.
    default = render_files(make_settings())
    for rel in ("grafana/dashboards/fanz-core.json", "grafana/dashboards/fanz-business.json", "alertmanager.yml"):
        assert files[rel] == default[rel], rel
    assert render_files(make_settings(**SHORT)) == files  # deterministic


def test_the_short_variant_passes_promtool_check_rules(tmp_path: Path) -> None:
    render_all(make_settings(**SHORT), tmp_path)
    rule_files = sorted(str(p) for p in (tmp_path / "rules").glob("*.yml"))
    assert len(rule_files) == 19
    proc = subprocess.run(
        [find_binary(PROMTOOL), "check", "rules", "--lint=all", "--lint-fatal", *rule_files],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == 19
    assert [r.returncode for r in check_rendered(tmp_path)] == [0, 0, 0]


@pytest.mark.parametrize(
    ("window", "scrape", "problem"),
    [
        ("3s", "1s", "rate_window 3s must be at least 4 scrape intervals (4s)"),
        ("1m", "30s", "rate_window 60s must be at least 4 scrape intervals (120s)"),
    ],
)
def test_a_rate_window_too_short_for_the_scrape_interval_is_refused(window: str, scrape: str, problem: str) -> None:
    pattern = problem.replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValidationError, match=pattern):
        ProvisioningSettings(rate_window=window, scrape_interval=scrape)
    # model_copy(update=...) skips validators (the stack runner uses it): rendering checks again.
    seconds = {"3s": 3, "1s": 1, "1m": 60, "30s": 30}
    copied = make_settings().model_copy(
        update={
            "rate_window": timedelta(seconds=seconds[window]),
            "scrape_interval": timedelta(seconds=seconds[scrape]),
        }
    )
    with pytest.raises(ConfigError, match=pattern):
        render_files(copied)


def test_rate_window_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_PROVISIONING_RATE_WINDOW", "30s")
    monkeypatch.setenv("FANZWATCH_PROVISIONING_SCRAPE_INTERVAL", "5s")
    monkeypatch.setenv(
        "FANZWATCH_PROVISIONING_EXTRA_WEBHOOKS",
        '[{"url": "http://127.0.0.1:9999/hook"}, {"url": "https://ops.example.org/a", "bearer_token_file": "t"}]',
    )
    settings = ProvisioningSettings()
    assert settings.rate_window == timedelta(seconds=30)
    assert settings.extra_webhooks == (
        ExtraWebhook(url="http://127.0.0.1:9999/hook"),
        ExtraWebhook(url="https://ops.example.org/a", bearer_token_file=Path("t")),
    )


def _extra(tmp_path: Path) -> ProvisioningSettings:
    return make_settings(
        secrets_dir=tmp_path / "secrets",
        extra_webhooks=(
            ExtraWebhook(url="http://127.0.0.1:9999/alerts"),
            ExtraWebhook(url="https://ops.example.org/hooks/am", bearer_token_file=Path("ops_token")),
            ExtraWebhook(url="http://127.0.0.1:9998/x", bearer_token_file=Path("/run/secrets/x_token")),
        ),
    )


def test_extra_webhooks_get_every_alert_with_tokens_read_from_files(tmp_path: Path) -> None:
    files = render_files(_extra(tmp_path))
    config = yaml.safe_load(files["alertmanager.yml"])
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["extra-webhooks"] == {
        "name": "extra-webhooks",
        "webhook_configs": [
            {"send_resolved": True, "url": "http://127.0.0.1:9999/alerts", "max_alerts": 0},
            {
                "send_resolved": True,
                "url": "https://ops.example.org/hooks/am",
                "max_alerts": 0,
                "http_config": {
                    "authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "secrets" / "ops_token")}
                },
            },
            {
                "send_resolved": True,
                "url": "http://127.0.0.1:9998/x",
                "max_alerts": 0,
                "http_config": {"authorization": {"type": "Bearer", "credentials_file": "/run/secrets/x_token"}},
            },
        ],
    }
    routes = config["route"]["routes"]
    assert [r["receiver"] for r in routes[:2]] == ["fanzwatch", "extra-webhooks"]
    assert routes[1] == {"receiver": "extra-webhooks", "continue": True}  # the root's grouping
    # Everything else is as without extra webhooks.
    without = yaml.safe_load(render_files(make_settings(secrets_dir=tmp_path / "secrets"))["alertmanager.yml"])
    assert routes[:1] + routes[2:] == without["route"]["routes"]
    assert [r for r in config["receivers"] if r["name"] != "extra-webhooks"] == without["receivers"]


def _routes_test(config: Path, labels: dict[str, str]) -> list[str]:
    proc = subprocess.run(
        [find_binary(AMTOOL), "config", "routes", "test", f"--config.file={config}"]
        + [f"{k}={v}" for k, v in labels.items()],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return proc.stdout.strip().split(",")


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (
            {"alertname": "PaymentFailureRate", "severity": "critical", "service": "payments", "platform": "fanz-1"},
            ["fanzwatch", "extra-webhooks", "critical", "payments"],
        ),
        ({"alertname": "HighResponseTime", "severity": "warning"}, ["fanzwatch", "extra-webhooks", "default"]),
        ({"alertname": "MetricAnomaly", "severity": "warning"}, ["fanzwatch", "extra-webhooks", "anomalies"]),
    ],
)
def test_amtool_routes_every_alert_to_the_extra_webhooks(
    tmp_path: Path, labels: dict[str, str], receivers: list[str]
) -> None:
    render_all(_extra(tmp_path), tmp_path / "out")
    assert [r.returncode for r in check_rendered(tmp_path / "out")] == [0, 0, 0]
    assert _routes_test(tmp_path / "out" / "alertmanager.yml", labels) == receivers


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://127.0.0.1/hook", "is not an http(s) URL"),
        ("127.0.0.1:9999/hook", "is not an http(s) URL"),
        ("http:///hook", "is not an http(s) URL"),
        ("http://127.0.0.1/a b", "is not an http(s) URL"),
        ("https://bot:s3cret@hooks.example.org/", "put no credentials in a webhook URL; use bearer_token_file"),
    ],
)
def test_bad_webhook_urls_are_refused_with_a_reason(url: str, problem: str) -> None:
    with pytest.raises(ValidationError) as info:
        ExtraWebhook(url=url)
    assert problem in str(info.value)
