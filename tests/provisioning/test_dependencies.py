"""The dependency definitions name alerts and labels that the rules really produce."""

from __future__ import annotations

import re

import pytest

from fanzwatch.provisioning import build_provisioning
from fanzwatch.provisioning.alertmanager import Matcher
from fanzwatch.provisioning.definitions.dependencies import DEPENDENCIES, AnyOf, Dependency
from fanzwatch.provisioning.definitions.jobs import JOBS
from fanzwatch.provisioning.definitions.probes import PROBE_KINDS
from fanzwatch.provisioning.definitions.slos import SLOS

from .conftest import make_settings

RULES = build_provisioning(make_settings()).alert_rules()
RULE_NAMES = {rule.name for rule in RULES}
RULE_SERVICES = {rule.service for rule in RULES}
KNOWN_VALUES = {  # what the rules' expressions put in these labels
    "probe": {k.name for k in PROBE_KINDS},
    "job": {j.name for j in JOBS},
    "sloth_id": {s.id for s in SLOS},
    "service": RULE_SERVICES,
}


def _values(m: Matcher, universe: set[str]) -> set[str]:
    pattern = re.compile(m.value if m.op == "=~" else re.escape(m.value))
    return {v for v in universe if pattern.fullmatch(v)}


def _alertnames(any_of: AnyOf) -> set[str]:
    return {n for matchers in any_of for m in matchers if m.name == "alertname" for n in _values(m, RULE_NAMES)}


@pytest.mark.parametrize("dependency", DEPENDENCIES, ids=[d.name for d in DEPENDENCIES])
def test_every_alternative_of_every_dependency_matches_real_alerts(dependency: Dependency) -> None:
    for matchers in (*dependency.alerts, *dependency.symptoms):
        for m in matchers:
            universe = RULE_NAMES if m.name == "alertname" else KNOWN_VALUES.get(m.name)
            if universe is not None:
                assert _values(m, universe), f"{dependency.name}: {m} matches nothing the rules produce"
        assert any(m.name in ("alertname", "service") for m in matchers), f"{dependency.name}: {matchers} too loose"


def test_the_payment_processor_explains_its_outage_alerts() -> None:
    processor = next(d for d in DEPENDENCIES if d.name == "Payment processor")
    assert _alertnames(processor.symptoms) == {
        "PaymentFailureRate",
        "HighErrorRate",
        "JourneyFailing",
        "SLOErrorBudgetBurnFast",
        "SLOErrorBudgetBurnMedium",  # not the ticket tier, SLOErrorBudgetBurnSlow (BurnRateTier.pages)
    }
    assert _alertnames(processor.alerts) == {"HealthCheckFailing", "HealthCheckDegraded", "ProbeFailing", "TargetDown"}
    check = next(m for matchers in processor.alerts for m in matchers if m.name == "check")
    assert re.fullmatch(check.value, "payment_processor_primary")  # the demo's check names
    assert not re.fullmatch(check.value, "database")
    slos = next(m for matchers in processor.symptoms for m in matchers if m.name == "sloth_id")
    assert _values(slos, KNOWN_VALUES["sloth_id"]) == {
        "payments-checkout-success",
        "payments-subscription-renewal-success",
        "payments-ppv-unlock-latency",
    }
