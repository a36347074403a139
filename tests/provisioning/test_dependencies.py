"""The dependency definitions name alerts and labels that the rules really produce."""

from __future__ import annotations

import re

import pytest

from fanzwatch.provisioning import build_provisioning
from fanzwatch.provisioning.alertmanager import Matcher
from fanzwatch.provisioning.definitions.dependencies import DEPENDENCIES, Dependency

from .conftest import make_settings

RULE_NAMES = {rule.name for rule in build_provisioning(make_settings()).alert_rules()}
RULE_SERVICES = {rule.service for rule in build_provisioning(make_settings()).alert_rules()}


def _alertnames(matchers: tuple[Matcher, ...]) -> set[str]:
    names: set[str] = set()
    for m in matchers:
        if m.name == "alertname":
            pattern = re.compile(m.value if m.op == "=~" else re.escape(m.value))
            names |= {n for n in RULE_NAMES if pattern.fullmatch(n)}
    return names


@pytest.mark.parametrize("dependency", DEPENDENCIES, ids=[d.name for d in DEPENDENCIES])
def test_every_dependency_matches_real_alerts(dependency: Dependency) -> None:
    symptoms = _alertnames(dependency.symptoms)
    assert symptoms, f"{dependency.name}: its symptom matchers match no alert rule"
    own = _alertnames(dependency.alerts)
    services = {m.value for m in dependency.alerts if m.name == "service"}
    assert own or (services and services <= RULE_SERVICES), f"{dependency.name}: its own alerts match no rule"


def test_the_payment_processor_explains_the_demo_outage_alerts() -> None:
    processor = next(d for d in DEPENDENCIES if d.name == "Payment processor")
    assert _alertnames(processor.symptoms) == {"PaymentFailureRate", "HighErrorRate"}
    assert _alertnames(processor.alerts) == {"HealthCheckFailing", "HealthCheckDegraded"}
    check = next(m for m in processor.alerts if m.name == "check")
    assert re.fullmatch(check.value, "payment_processor_primary")  # the demo's check names
    assert not re.fullmatch(check.value, "database")
