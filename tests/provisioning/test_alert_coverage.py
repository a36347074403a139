"""Every alert rule has a promtool case where it fires and one where it stays silent."""

from __future__ import annotations

from fanzwatch.provisioning import build_provisioning

from . import (
    test_alerts_anomaly,
    test_alerts_business,
    test_alerts_health,
    test_alerts_infra,
    test_alerts_probes,
    test_alerts_service,
    test_alerts_slo,
    test_alerts_telemetry,
)
from .conftest import make_settings

CASES = (
    test_alerts_service.CASES
    + test_alerts_business.CASES
    + test_alerts_infra.CASES
    + test_alerts_health.CASES
    + test_alerts_anomaly.CASES
    + test_alerts_slo.CASES
    + test_alerts_probes.CASES
    + test_alerts_telemetry.CASES
)


def _rule_keys() -> set[tuple[str, str, str]]:
    keys = set()
    for rule in build_provisioning(make_settings()).alert_rules():
        service = "*" if "{{" in rule.service else rule.service  # templated: depends on the series
        keys.add((rule.name, rule.severity.value, service))
    return keys


def test_every_alert_rule_fires_in_a_promtool_case_and_is_silent_in_one() -> None:
    firing: set[tuple[str, str, str]] = set()
    silent: set[str] = set()
    for case in CASES:
        for check in case().alert_tests():
            if not check["exp_alerts"]:
                silent.add(check["alertname"])
            for expected in check["exp_alerts"]:
                labels = expected["exp_labels"]
                firing.add((check["alertname"], labels["severity"], labels["service"]))
                firing.add((check["alertname"], labels["severity"], "*"))
    rules = _rule_keys()
    assert rules - firing == set(), "alert rules without a firing promtool case"
    assert {name for name, _, _ in rules} - silent == set(), "alert rules without a silent promtool case"
    # And no case expects an alert that is not defined.
    assert {name for name, _, _ in firing} <= {name for name, _, _ in rules}


def test_the_rule_set_is_the_corrected_guide_plus_target_and_health_alerts() -> None:
    assert _rule_keys() == {
        ("HighErrorRate", "critical", "fanz-platform"),
        ("HighErrorRate", "warning", "fanz-platform"),
        ("HighResponseTime", "warning", "fanz-platform"),
        ("DatabaseConnectionPoolHigh", "critical", "database"),
        ("DatabaseConnectionPoolHigh", "warning", "database"),
        ("HighMemoryUsage", "critical", "fanz-platform"),
        ("HighMemoryUsage", "warning", "fanz-platform"),
        ("LowUserRegistrations", "warning", "business"),
        ("PaymentFailureRate", "critical", "payments"),
        ("LowDiskSpace", "critical", "infrastructure"),
        ("LowDiskSpace", "warning", "infrastructure"),
        ("TargetDown", "critical", "monitoring"),
        ("TargetDown", "critical", "fanz-platform"),
        ("TargetDown", "critical", "payments"),
        ("TargetDown", "warning", "infrastructure"),
        ("TargetDown", "warning", "monitoring"),
        ("HealthCheckFailing", "critical", "*"),
        ("HealthCheckFailing", "warning", "*"),
        ("HealthCheckDegraded", "warning", "*"),
        ("AnomalyEngineBlind", "warning", "fanzwatch-anomaly"),
        ("AnomalySeriesStale", "warning", "fanzwatch-anomaly"),
        ("AnomalyEngineStopped", "warning", "fanzwatch-anomaly"),
        ("WatchedSeriesAbsent", "warning", "fanzwatch-anomaly"),
        # One per (service, severity) of the probe kinds (definitions/probes.py), and the certificates.
        ("ProbeFailing", "critical", "fanz-platform"),
        ("ProbeFailing", "critical", "payments"),
        ("ProbeFailing", "warning", "monitoring"),
        ("ProbeFailing", "warning", "fanz-platform"),
        ("ProbeFailing", "warning", "infrastructure"),
        ("TLSCertificateExpiringSoon", "warning", "infrastructure"),
        ("JourneyFailing", "critical", "payments"),  # the journey prober's quorum
        ("ProbesNotRunning", "warning", "monitoring"),  # the exporter itself gets no result
        # The traces and logs pipeline (definitions/alerts_telemetry.py).
        ("TelemetryPipelineRejecting", "warning", "monitoring"),
        ("TelemetryStoreUnavailable", "warning", "monitoring"),
        ("TelemetrySpoolBacklog", "warning", "monitoring"),
        # One per burn-rate tier, per service owning an SLO (definitions/slos.py).
        ("SLOErrorBudgetBurnFast", "critical", "fanz-platform"),
        ("SLOErrorBudgetBurnFast", "critical", "payments"),
        ("SLOErrorBudgetBurnMedium", "critical", "fanz-platform"),
        ("SLOErrorBudgetBurnMedium", "critical", "payments"),
        ("SLOErrorBudgetBurnSlow", "warning", "fanz-platform"),
        ("SLOErrorBudgetBurnSlow", "warning", "payments"),
        # The performance budgets' own tiers (tickets, never pages).
        ("PerformanceBudgetBurnFast", "warning", "web-performance"),
        ("PerformanceBudgetBurnSlow", "info", "web-performance"),
    }
