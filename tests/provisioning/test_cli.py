"""``fanzwatch render``: writes the files, explains bad input without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fanzwatch.cli import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("FANZWATCH_PROVISIONING_SCRAPE_INTERVAL", "FANZWATCH_PROVISIONING_TARGETS__FANZWATCH"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_render_writes_every_file_and_checks_them(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "render",
            "--out",
            str(out),
            "--platform",
            "127.0.0.1:8001",
            "--platform",
            "127.0.0.1:8002",
            "--fanzwatch",
            "127.0.0.1:18900",
            "--scrape-interval",
            "1s",
            "--check",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        result.output.splitlines()[-1]
        == f"rendered 26 files into {out} (checked with promtool, amtool and blackbox_exporter)"
    )
    prom = yaml.safe_load((out / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "1s"
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert jobs["fanz-platform"] == ["127.0.0.1:8001", "127.0.0.1:8002"]
    assert jobs["fanzwatch"] == ["127.0.0.1:18900"]
    am = (out / "alertmanager.yml").read_text()
    assert "url: http://127.0.0.1:18900/api/v1/alerts/webhook" in am


def test_environment_settings_apply_and_flags_win(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FANZWATCH_PROVISIONING_SCRAPE_INTERVAL", "5s")
    monkeypatch.setenv("FANZWATCH_PROVISIONING_TARGETS__FANZWATCH", "10.0.0.5:8900")
    result = runner.invoke(app, ["render", "-o", str(tmp_path), "--prometheus", "10.0.0.6:9090"])
    assert result.exit_code == 0, result.output
    prom = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    assert prom["global"]["scrape_interval"] == "5s"
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    assert (jobs["fanzwatch"], jobs["prometheus"]) == (["10.0.0.5:8900"], ["10.0.0.6:9090"])


def test_clickhouse_url_adds_grafanas_clickhouse_data_source(runner: CliRunner, tmp_path: Path) -> None:
    plain = runner.invoke(app, ["render", "-o", str(tmp_path / "plain")])
    with_ch = runner.invoke(app, ["render", "-o", str(tmp_path / "ch"), "--clickhouse-url", "clickhouse://ch-1:9000"])
    assert plain.exit_code == 0 and with_ch.exit_code == 0, with_ch.output
    rel = "grafana/provisioning/datasources/fanzwatch.yml"
    types = [d["type"] for d in yaml.safe_load((tmp_path / "ch" / rel).read_text())["datasources"]]
    assert types == ["prometheus", "grafana-clickhouse-datasource"]
    assert [d["type"] for d in yaml.safe_load((tmp_path / "plain" / rel).read_text())["datasources"]] == ["prometheus"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "not-a-target"], "targets.platforms: Value error, 'not-a-target' is not host:port"),
        (["--scrape-interval", "often"], "scrape_interval: Input should be a valid timedelta"),
        (["--runbook-base-url", "ftp://x"], "runbook_base_url must be an http(s) URL"),
        (["--clickhouse-url", "mysql://ch:3306"], "is not an http(s):// or clickhouse:// URL without credentials"),
    ],
)
def test_bad_input_is_explained(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["render", "--out", str(tmp_path), *args])
    assert result.exit_code == 2
    assert "invalid configuration:" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "prometheus.yml").exists()


def test_an_output_path_that_is_a_file_is_explained(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = runner.invoke(app, ["render", "--out", str(target)])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {target} exists and is not a directory"


def test_out_is_required_and_help_explains_the_command(runner: CliRunner) -> None:
    missing = runner.invoke(app, ["render"])
    assert missing.exit_code == 2 and "Missing option '--out'" in missing.output
    help_text = runner.invoke(app, ["render", "--help"], terminal_width=200).output
    for fragment in (
        "--out",
        "--platform",
        "--check",
        "FANZWATCH_PROVISIONING_",
        "Secrets are never written",
        "HOST:PORT",
    ):
        assert fragment in help_text
