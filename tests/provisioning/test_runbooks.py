"""One runbook per alert, each with the sections on-call needs and queries that work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fanzwatch.provisioning import build_provisioning, check_expression

from .conftest import make_settings

RUNBOOKS = Path(__file__).parents[2] / "docs" / "runbooks"
ALERTS = sorted({rule.name for rule in build_provisioning(make_settings()).alert_rules()})
EXTERNAL = ["MetricAnomaly"]  # posted by the anomaly engine, not a rule
SECTIONS = ("## What it means", "## First checks", "## Mitigation")


def test_there_is_exactly_one_runbook_per_alert() -> None:
    pages = sorted(p.stem for p in RUNBOOKS.glob("*.md") if p.name != "README.md")
    assert pages == sorted(ALERTS + EXTERNAL)


@pytest.mark.parametrize("name", ALERTS + EXTERNAL)
def test_runbook_has_the_sections_and_catalog_queries(name: str) -> None:
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.startswith(f"# {name}\n")
    positions = [text.find(section) for section in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), f"{name}: sections missing or out of order"
    assert "**Severity**" in text and "**Owner**" in text
    queries = re.findall(r"```promql\n(.*?)```", text, flags=re.S)
    assert queries or name == "MetricAnomaly", f"{name}: give on-call at least one query"
    for query in queries:
        assert check_expression(query.strip()) == [], (name, query)


def test_the_index_links_every_runbook() -> None:
    index = (RUNBOOKS / "README.md").read_text()
    for name in ALERTS + EXTERNAL:
        assert f"[{name}]({name}.md)" in index


def test_every_rule_points_at_its_runbook() -> None:
    for rule in build_provisioning(make_settings()).alert_rules():
        rendered = rule.to_dict(runbook_base_url="https://x.test/runbooks")
        assert rendered["annotations"]["runbook_url"] == f"https://x.test/runbooks/{rule.name}.md"
        assert (RUNBOOKS / f"{rule.name}.md").is_file()
