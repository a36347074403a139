"""OpenSLO v1 input: the same rules as the Python definitions (golden), clear refusals otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fanzwatch.cli import app
from fanzwatch.core import ConfigError
from fanzwatch.provisioning import render_files
from fanzwatch.provisioning.definitions.slos import API_LATENCY, CHECKOUT_SUCCESS
from fanzwatch.provisioning.openslo import load_openslo
from fanzwatch.provisioning.slo_rules import slo_rule_group

from .conftest import RUNBOOKS, make_settings

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "openslo.yaml"


def _rendered(group: Any) -> dict[str, Any]:
    doc: dict[str, Any] = group.to_dict(runbook_base_url=RUNBOOKS)
    return doc


def test_the_example_renders_exactly_the_rules_of_the_python_definitions() -> None:
    loaded = load_openslo(EXAMPLE.read_text(), source=str(EXAMPLE))
    assert [s.id for s in loaded] == ["fanz-platform-api-latency", "payments-checkout-success"]
    for from_yaml, from_python in zip(loaded, (API_LATENCY, CHECKOUT_SUCCESS), strict=True):
        got, want = _rendered(slo_rule_group(from_yaml)), _rendered(slo_rule_group(from_python))
        # Only the info series says where each came from.
        info_got = next(r for r in got["rules"] if r.get("record") == "sloth_slo_info")
        info_want = next(r for r in want["rules"] if r.get("record") == "sloth_slo_info")
        assert (info_got["labels"]["sloth_mode"], info_got["labels"]["sloth_spec"]) == ("openslo", "openslo/v1")
        assert (info_want["labels"]["sloth_mode"], info_want["labels"]["sloth_spec"]) == ("python", "fanzwatch/v1")
        for info in (info_got, info_want):
            del info["labels"]["sloth_mode"], info["labels"]["sloth_spec"]
        assert got == want


def test_slo_files_add_their_groups_and_a_clashing_id_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    renamed = EXAMPLE.read_text().replace("name: checkout-success", "name: checkout-eu-success")
    own.write_text(renamed.replace("name: api-latency\n", "name: api-latency-eu\n"))
    files = render_files(make_settings(slo_files=(own,)))
    assert {"rules/slo-payments-checkout-eu-success.yml", "rules/slo-fanz-platform-api-latency-eu.yml"} <= set(files)
    with pytest.raises(ConfigError, match="two SLOs have the id 'fanz-platform-api-latency'"):
        render_files(make_settings(slo_files=(EXAMPLE,)))


_SLO = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: x-ok}
spec:
  service: payments
  indicator:
    spec:
      ratioMetric:
        bad:
          metricSource:
            type: Prometheus
            spec: {query: 'sum by (platform) (rate(fanz_creator_payouts_total{status="failed"}[{{.window}}]))'}
        total:
          metricSource:
            type: Prometheus
            spec: {query: 'sum by (platform) (rate(fanz_creator_payouts_total[{{.window}}]))'}
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives: [{target: 0.99}]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("apiVersion: openslo/v1", "apiVersion: openslo/v1alpha"), "apiVersion 'openslo/v1alpha' is not supported"),
        (("duration: 30d", "duration: 14d"), "spec.timeWindow '14d' .* is not supported"),
        (("{target: 0.99}", "{target: 99.9}"), "objective 99.9 must be a ratio between 0 and 1"),
        (
            ("objectives: [{target: 0.99}]", "budgetingMethod: Timeslices\n  objectives: [{target: 0.99}]"),
            "only Occurrences",
        ),
        (
            (
                "bad:\n          metricSource:\n            type: Prometheus",
                "bad:\n          metricSource:\n            type: Datadog",
            ),
            "must be Prometheus",
        ),
        (
            ("rate(fanz_creator_payouts_total[{{.window}}])", "rate(b_total[5m])"),
            r"has no \{\{\.window\}\} placeholder",
        ),
        (("  service: payments\n", ""), "spec.service is required"),
        (("metadata: {name: x-ok}", "metadata: {name: X_bad}"), "lowercase letters, digits and -"),
        (("kind: SLO", "kind: SLO\n  - broken: ["), "not valid YAML"),
    ],
)
def test_bad_openslo_is_refused_with_the_field_to_fix(change: tuple[str, str], message: str) -> None:
    text = _SLO.replace(*change)
    assert text != _SLO
    with pytest.raises(ConfigError, match=message):
        load_openslo(text, source="x.yaml")


def test_the_cli_renders_slo_files_and_explains_a_bad_one(tmp_path: Path) -> None:
    own = tmp_path / "own.yaml"
    own.write_text(_SLO)
    runner = CliRunner()
    result = runner.invoke(app, ["render", "-o", str(tmp_path / "out"), "--slo-file", str(own)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "rules" / "slo-payments-x-ok.yml").is_file()
    own.write_text(_SLO.replace("{target: 0.99}", "{target: 1.5}"))
    result = runner.invoke(app, ["render", "-o", str(tmp_path / "out2"), "--slo-file", str(own)])
    assert result.exit_code == 2
    assert "objective 1.5 must be a ratio between 0 and 1" in result.output
    assert "Traceback" not in result.output
