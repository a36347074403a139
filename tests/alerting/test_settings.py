"""Alerting settings: references checked, durations and secrets parsed, YAML over env."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fanzwatch.core.errors import ConfigError
from fanzwatch.core.models import Priority
from fanzwatch.settings.alerting import AlertingSettings, SecretSource, load_alerting_settings

SLACK = {"kind": "slack", "name": "ops", "url": "https://hooks.slack.test/x"}
MAIL = {"kind": "email", "name": "mail", "host": "127.0.0.1", "port": 25}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("FANZWATCH_ALERTING_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"users": [{"name": "ana", "notify": ["nope"]}]}, "user ana: unknown channel 'nope'"),
        (
            {"channels": [MAIL], "users": [{"name": "ana", "notify": ["mail"]}]},
            "user ana: notified by e-mail but has no",
        ),
        ({"schedules": [{"name": "primary", "users": ["zed"]}]}, "schedule primary: unknown users ['zed']"),
        (
            {"escalation": {"P0": [{"name": "x", "targets": ["schedule:primary"]}]}},
            "escalation P0 step 'x': unknown schedule 'primary'",
        ),
        ({"escalation": {"P0": [{"name": "x", "targets": ["team:ops"]}]}}, "write schedule:NAME or user:NAME"),
        ({"channels": [SLACK, SLACK]}, "channels: names must be unique"),
        ({"schedules": [{"name": "p", "users": ["a"], "start": "2026-01-01T09:00:00"}]}, "the rotation start needs"),
        ({"webhook_token": {"value": "a", "file": "/x"}}, "either as a value or as {file: PATH}"),
        ({"reopen_window": "-5m"}, "reopen_window"),
        ({"group_by": []}, "group_by"),
        (
            {"channels": [{**SLACK, "timeout_seconds": 120}]},
            "channel ops: timeout_seconds 120 needs delivery.lease above 121s (is 120s)",
        ),
        (
            {"channels": [{**SLACK, "timeout_seconds": 5}], "delivery": {"lease": "6s"}},
            "channel ops: timeout_seconds 5 needs delivery.lease above 6s (is 6s)",
        ),
        ({"impact_rules": [{"name": "x", "matchers": ['service=~"("']}]}, "invalid regex"),
    ],
)
def test_invalid_configuration_says_what_is_wrong(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AlertingSettings(**values)


def test_durations_in_every_spelling() -> None:
    s = AlertingSettings(reopen_window="90s", tick_interval=2, delivery={"backoff_base": "250ms", "lease": "PT3M"})
    assert s.reopen_window == timedelta(seconds=90)
    assert s.tick_interval == timedelta(seconds=2)
    assert s.delivery.backoff_base == timedelta(milliseconds=250)
    assert s.delivery.lease == timedelta(minutes=3)


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FANZWATCH_ALERTING_WEBHOOK_TOKEN", "from-env")
    monkeypatch.setenv("FANZWATCH_ALERTING_CHANNELS", '[{"kind": "slack", "name": "ops", "url": "https://h/x"}]')
    monkeypatch.setenv("FANZWATCH_ALERTING_GROUP_BY", '["alertname"]')
    monkeypatch.setenv("FANZWATCH_ALERTING_REMEDIATION__DRY_RUN", "true")
    monkeypatch.setenv("FANZWATCH_ALERTING_REMEDIATION__PROCESS_CONTROL_URL", "http://127.0.0.1:8999")
    s = AlertingSettings()
    assert s.remediation.dry_run and s.remediation.process_control_url == "http://127.0.0.1:8999"
    assert s.webhook_token is not None and s.webhook_token.read("x") == "from-env"
    assert [c.name for c in s.channels] == ["ops"] and s.group_by == ("alertname",)
    assert "from-env" not in repr(s)


def test_yaml_file_over_the_environment_with_file_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pd_key").write_text("R0UT1NG\n")
    config = tmp_path / "alerting.yml"
    config.write_text(
        f"""
webhook_token: {{file: {tmp_path / "pd_key"}}}
channels:
  - {{kind: pagerduty, name: pd, routing_key: {{file: {tmp_path / "pd_key"}}}}}
users:
  - {{name: ana, notify: [pd]}}
schedules:
  - {{name: primary, users: [ana], rotation: daily, start: "2026-01-05T09:00:00+01:00"}}
escalation:
  P0:
    - {{name: primary, targets: ["schedule:primary"], wait: 10m}}
    - {{name: ana-again, targets: ["user:ana"]}}
"""
    )
    monkeypatch.setenv("FANZWATCH_ALERTING_CONFIG_FILE", str(config))
    monkeypatch.setenv("FANZWATCH_ALERTING_MAX_BODY_BYTES", "4096")
    s = load_alerting_settings()
    assert s.max_body_bytes == 4096
    assert s.channels[0].routing_key.read("pd") == "R0UT1NG"  # type: ignore[union-attr]
    steps = s.steps_for(Priority.P0)
    assert [(x.name, x.wait) for x in steps] == [("primary", timedelta(minutes=10)), ("ana-again", None)]


@pytest.mark.parametrize(
    ("content", "message"),
    [("- just\n- a list\n", "must hold a mapping"), ("a: [unclosed\n", "is not valid YAML")],
)
def test_broken_config_files_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "a.yml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_alerting_settings(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_alerting_settings(tmp_path / "missing.yml")


def test_secret_files_that_are_missing_or_empty(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="cannot read the secret file"):
        SecretSource(file=tmp_path / "missing").read("x")
    with pytest.raises(ConfigError, match="is empty"):
        SecretSource(file=tmp_path / "empty").read("x")
