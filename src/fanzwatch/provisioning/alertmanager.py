"""Typed Alertmanager configuration: routes with ``matchers``, receivers, inhibitions.

Secrets never appear here as values: Slack URLs, PagerDuty routing keys, the SMTP
password and the webhook bearer token are *paths* Alertmanager reads at send time
(``api_url_file``, ``routing_key_file``, ``auth_password_file``, ``credentials_file``;
all supported by Alertmanager 0.25, the version this project tests against).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from ..core import ConfigError
from ._output import prom_duration

MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """``name op "value"`` in Alertmanager's matcher syntax (the replacement of ``match``)."""

    name: str
    op: MatchOp
    value: str

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def eq(name: str, value: str) -> Matcher:
    return Matcher(name, "=", value)


@dataclass(frozen=True, slots=True)
class Route:
    """A node of the routing tree. ``continue_`` lets an alert go on to later siblings."""

    receiver: str | None = None
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] | None = None
    continue_: bool = False
    group_wait: timedelta | None = None
    group_interval: timedelta | None = None
    repeat_interval: timedelta | None = None
    routes: tuple[Route, ...] = ()

    def walk(self) -> Iterator[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.receiver is not None:
            out["receiver"] = self.receiver
        if self.matchers:
            out["matchers"] = [str(m) for m in self.matchers]
        if self.group_by is not None:
            out["group_by"] = list(self.group_by)
        for key, value in (
            ("group_wait", self.group_wait),
            ("group_interval", self.group_interval),
            ("repeat_interval", self.repeat_interval),
        ):
            if value is not None:
                out[key] = prom_duration(value)
        if self.continue_:
            out["continue"] = True
        if self.routes:
            out["routes"] = [r.to_dict() for r in self.routes]
        return out


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """A Slack incoming-webhook message; the URL comes from the global ``slack_api_url_file``."""

    channel: str
    title: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"send_resolved": True, "channel": self.channel, "title": self.title, "text": self.text}


@dataclass(frozen=True, slots=True)
class PagerDutyConfig:
    """PagerDuty Events API v2 (``routing_key``, not the v1 ``service_key``)."""

    routing_key_file: str
    description: str
    severity: str
    component: str
    group: str
    runbook_link: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "send_resolved": True,
            "routing_key_file": self.routing_key_file,
            "description": self.description,
            "severity": self.severity,
            "component": self.component,
            "group": self.group,
            "class": "{{ .CommonLabels.alertname }}",
            "links": [{"href": self.runbook_link, "text": "runbook"}],
        }


@dataclass(frozen=True, slots=True)
class EmailConfig:
    to: str
    subject: str

    def to_dict(self) -> dict[str, Any]:
        return {"send_resolved": True, "to": self.to, "headers": {"Subject": self.subject}}


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """A JSON webhook; ``max_alerts: 0`` sends every alert of the group."""

    url: str
    bearer_token_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"send_resolved": True, "url": self.url, "max_alerts": 0}
        if self.bearer_token_file:
            out["http_config"] = {"authorization": {"type": "Bearer", "credentials_file": self.bearer_token_file}}
        return out


@dataclass(frozen=True, slots=True)
class Receiver:
    """A named set of integrations. A receiver with none is valid (it drops notifications)."""

    name: str
    slack: tuple[SlackConfig, ...] = ()
    pagerduty: tuple[PagerDutyConfig, ...] = ()
    email: tuple[EmailConfig, ...] = ()
    webhook: tuple[WebhookConfig, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        for key, configs in (
            ("slack_configs", self.slack),
            ("pagerduty_configs", self.pagerduty),
            ("email_configs", self.email),
            ("webhook_configs", self.webhook),
        ):
            if configs:
                out[key] = [c.to_dict() for c in configs]
        return out


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While an alert matching ``source`` fires, mute alerts matching ``target`` that
    agree with it on every label in ``equal`` (a label absent on both sides agrees)."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_matchers": [str(m) for m in self.source],
            "target_matchers": [str(m) for m in self.target],
            "equal": list(self.equal),
        }


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """The whole ``alertmanager.yml``. ``global_`` holds global settings as rendered."""

    route: Route
    receivers: tuple[Receiver, ...]
    inhibit_rules: tuple[InhibitRule, ...] = ()
    global_: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate receiver names in {names}")
        if self.route.receiver is None:
            raise ConfigError("the root route needs a receiver")
        missing = {r.receiver for r in self.route.walk() if r.receiver is not None} - set(names)
        if missing:
            raise ConfigError(f"routes name receivers that are not defined: {sorted(missing)}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "global": self.global_,
            "route": self.route.to_dict(),
            "inhibit_rules": [r.to_dict() for r in self.inhibit_rules],
            "receivers": [r.to_dict() for r in self.receivers],
        }
