"""Fixtures for provisioning tests: a rendered directory and a ``promtool test rules`` runner."""

from __future__ import annotations

import copy
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fanzwatch.core.models import HOLD_ANNOTATION
from fanzwatch.provisioning import ProvisioningSettings, StackTargets, render_all

RUNBOOKS = "https://runbooks.fanz.test"
RULE_FILES = ("recording", "service", "business", "infrastructure", "health")


def make_settings(**overrides: Any) -> ProvisioningSettings:
    """Settings independent of the environment's FANZWATCH_PROVISIONING_* variables."""
    values: dict[str, Any] = {
        "targets": StackTargets(
            fanzwatch="127.0.0.1:8900",
            platforms=("127.0.0.1:8001", "127.0.0.1:8002"),
            payment_processor=("127.0.0.1:8010",),
        ),
        "runbook_base_url": RUNBOOKS,
    }
    values.update(overrides)
    return ProvisioningSettings(**values)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    render_all(make_settings(), out)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def alert(
    name: str,
    *,
    severity: str,
    service: str,
    summary: str,
    description: str,
    **labels: str,
) -> dict[str, Any]:
    """One expected alert for ``exp_alerts``: the model's labels plus the series' own."""
    priority = {"critical": "P0", "warning": "P1", "info": "P2"}[severity]
    return {
        "exp_labels": {"severity": severity, "priority": priority, "service": service, **labels},
        "exp_annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{RUNBOOKS}/{name}.md",
        },
    }


@dataclass(frozen=True)
class PromtoolCase:
    """A ``promtool test rules`` document and the rendered rule files it reads."""

    document: dict[str, Any]
    rule_files: tuple[str, ...] = RULE_FILES

    def alert_tests(self) -> list[dict[str, Any]]:
        return [t for test in self.document["tests"] for t in test.get("alert_rule_test", [])]


PromtoolRunner = Callable[[PromtoolCase], str]


@pytest.fixture
def promtool_test(rendered: Path, tmp_path: Path) -> PromtoolRunner:
    """Run one case with ``promtool test rules`` against the rendered rule files.

    The document gets ``rule_files`` (absolute paths into the rendered directory; all of
    them unless a test names the few it reads, which keeps week-long tests fast) added;
    the test fails with promtool's own explanation when an expectation is not met.
    """
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed (apt-get install prometheus)"

    holds: dict[tuple[str, str], str] = {}  # (alertname, severity) → its rule's ``for``, as the hold annotation
    for rule_file in (rendered / "rules").glob("*.yml"):
        for group in yaml.safe_load(rule_file.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    holds[(rule["alert"], rule["labels"]["severity"])] = rule["annotations"][HOLD_ANNOTATION]

    def with_holds(document: dict[str, Any]) -> dict[str, Any]:
        """Every expected alert also expects its rule's ``hold`` annotation (unless the case names one)."""
        for test in document["tests"]:
            for check in test.get("alert_rule_test", []):
                for exp in check.get("exp_alerts", []):
                    key = (check["alertname"], exp["exp_labels"]["severity"])
                    exp.setdefault("exp_annotations", {}).setdefault(HOLD_ANNOTATION, holds[key])
        return document

    def run(case: PromtoolCase) -> str:
        doc = {
            "rule_files": [str(rendered / "rules" / f"{f}.yml") for f in case.rule_files],
            # promtool orders groups randomly unless told; recording rules go first, as
            # their results are what the alert groups read.
            "group_eval_order": [f"fanzwatch.{f}" for f in case.rule_files],
            **with_holds(copy.deepcopy(case.document)),
        }
        path = tmp_path / "test.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False, width=4096))
        proc = subprocess.run(
            [promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        return output

    return run


def counter(*segments: tuple[float, int]) -> str:
    """A counter series in promtool's expanding notation from ``(increment per step, steps)``.

    ``counter((20, 3), (5, 2))`` is ``0 20 40 60 65 70``.
    """
    parts = []
    value = 0.0
    first = True
    for increment, steps in segments:
        if first:
            parts.append(f"{value:g}+{increment:g}x{steps}")
            first = False
        else:
            parts.append(f"{value + increment:g}+{increment:g}x{steps - 1}")
        value += increment * steps
    return " ".join(parts)
