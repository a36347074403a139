"""The typed definitions refuse what Prometheus or Alertmanager would reject, or worse, accept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from fanzwatch.core import ConfigError, Severity
from fanzwatch.provisioning import AlertmanagerConfig, AlertRule, Matcher, Receiver, RecordingRule, Route, RuleGroup
from fanzwatch.provisioning._output import prom_duration
from fanzwatch.provisioning.rules import scaled_hold
from fanzwatch.settings.provisioning import ProvisioningSettings, StackTargets


def _rule(**overrides: object) -> AlertRule:
    values: dict[str, object] = {
        "name": "HighErrorRate",
        "expr": "up == 0",
        "hold": timedelta(minutes=2),
        "severity": Severity.WARNING,
        "service": "fanz-platform",
        "summary": "s",
        "description": "d",
    }
    values.update(overrides)
    return AlertRule(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=4), "4h"),
        (timedelta(weeks=1, hours=1), "1w1h"),
    ],
)
def test_prometheus_durations(value: timedelta, text: str) -> None:
    assert prom_duration(value) == text


def test_priority_follows_severity_and_labels_are_ordered() -> None:
    rule = _rule(severity=Severity.CRITICAL, extra_labels={"team": "core", "component": "api"})
    assert list(rule.labels().items()) == [
        ("severity", "critical"),
        ("priority", "P0"),
        ("service", "fanz-platform"),
        ("component", "api"),
        ("team", "core"),
    ]
    assert _rule(severity=Severity.INFO).labels()["priority"] == "P2"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "high_error_rate"}, "UpperCamelCase"),
        ({"extra_labels": {"priority": "P2"}}, "may not set"),
        ({"summary": ""}, "required"),
        ({"service": ""}, "required"),
    ],
)
def test_alert_rules_refuse_incomplete_definitions(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _rule(**overrides)


def test_for_scale_shortens_holds_to_whole_milliseconds() -> None:
    assert scaled_hold(timedelta(minutes=30), 1.0) == timedelta(minutes=30)
    assert scaled_hold(timedelta(minutes=1), 0.05) == timedelta(seconds=3)
    assert scaled_hold(timedelta(minutes=1), 0.000001) == timedelta(milliseconds=1)
    assert _rule().to_dict(runbook_base_url="https://r", for_scale=0.01)["for"] == "1s200ms"


def test_recording_rules_and_groups_validate_names() -> None:
    with pytest.raises(ValueError, match="level:metric:operations"):
        RecordingRule("no_colons", "up")
    with pytest.raises(ValueError, match="rule file name"):
        RuleGroup("g", "Bad Name", ())
    group = RuleGroup(
        "g", "g", (RecordingRule("job:up:sum", "sum by (job) (up)"), _rule()), interval=timedelta(seconds=30)
    )
    assert group.to_dict(runbook_base_url="https://r")["interval"] == "30s"
    assert [r.record for r in group.recordings()] == ["job:up:sum"] and len(group.alerts()) == 1


def test_matchers_quote_and_escape_values() -> None:
    assert str(Matcher("alertname", "=~", 'High.*"x"\\')) == 'alertname=~"High.*\\"x\\"\\\\"'


def test_alertmanager_config_refuses_unknown_and_duplicate_receivers() -> None:
    with pytest.raises(ConfigError, match=r"not defined: \['pager'\]"):
        AlertmanagerConfig(route=Route(receiver="a", routes=(Route(receiver="pager"),)), receivers=(Receiver("a"),))
    with pytest.raises(ConfigError, match="duplicate receiver"):
        AlertmanagerConfig(route=Route(receiver="a"), receivers=(Receiver("a"), Receiver("a")))
    with pytest.raises(ConfigError, match="root route needs a receiver"):
        AlertmanagerConfig(route=Route(), receivers=(Receiver("a"),))


def test_settings_parse_durations_and_validate_targets() -> None:
    settings = ProvisioningSettings(scrape_interval="500ms", evaluation_interval="2", group_wait="0s")  # type: ignore[arg-type]
    assert settings.scrape_interval == timedelta(milliseconds=500)
    assert settings.evaluation_interval == timedelta(seconds=2)
    assert settings.resolved_runbook_base_url == "http://127.0.0.1:8900/runbooks"
    assert ProvisioningSettings(runbook_base_url="https://docs.fanz.test/rb/").resolved_runbook_base_url == (
        "https://docs.fanz.test/rb"
    )
    with pytest.raises(ValidationError, match="at least 100ms"):
        ProvisioningSettings(scrape_interval="10ms")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="whole number of milliseconds"):
        ProvisioningSettings(scrape_interval=timedelta(microseconds=1500))
    with pytest.raises(ValidationError, match="for_scale"):
        ProvisioningSettings(for_scale=0)
    with pytest.raises(ValidationError, match="unique"):
        StackTargets(platforms=("127.0.0.1:8001", "127.0.0.1:8001"))
    with pytest.raises(ValidationError, match="is not host:port"):
        StackTargets(alertmanager="127.0.0.1:70000")
    assert StackTargets(fanzwatch="[::1]:8900", platforms=("app.internal:8001",)).fanzwatch == "[::1]:8900"
