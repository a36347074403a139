"""Settings of alert handling (``FANZWATCH_ALERTING_*``): webhook, incidents, escalation,
notification channels, on-call rotations and remediation playbooks.

Scalars come from the environment; the structured parts (channels, users, schedules,
policies, playbooks) are easiest in a YAML file, loaded by :func:`load_alerting_settings`
(``FANZWATCH_ALERTING_CONFIG_FILE``); values in the file win over the environment.
Secrets are ``SecretSource`` values: inline (``"..."``) or ``{file: /path}``.

>>> AlertingSettings(webhook_token="s3cret", channels=[{"kind": "slack", "name": "ops", "url": "https://hooks..."}])
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import SettingsConfigDict

from ..core.errors import ConfigError
from ..core.models import Priority
from ._base import ComponentSettings, component_config

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="lowercase slug")]
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
"""``{label}`` in an action template: replaced by the alert's (allow-listed) label value."""


def _duration(value: object) -> object:
    """``90s``, ``5m``, ``1h``, bare seconds or ISO 8601 (pydantic's own parsing)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str) and (m := _DURATION.match(value.strip())):
        return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    return value


def _non_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("durations cannot be negative")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_non_negative)]
"""A duration: ``90s``, ``5m``, ``1h``, bare seconds or ISO 8601."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSource(_Model):
    """A secret given inline (``value``) or read from a file (``file``) when the server starts."""

    value: SecretStr | None = None
    file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"value": data} if isinstance(data, str | SecretStr) else data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.value is None) == (self.file is None):
            raise ValueError("give a secret either as a value or as {file: PATH}, not both or neither")
        return self

    def read(self, setting: str) -> str:
        """The secret's text (a file's content without its trailing newline)."""
        if self.value is not None:
            return self.value.get_secret_value()
        assert self.file is not None
        try:
            text = self.file.read_text().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"cannot read the secret file {self.file}: {exc.strerror}", setting=setting) from None
        if not text:
            raise ConfigError(f"the secret file {self.file} is empty", setting=setting)
        return text


class MatcherConfig(_Model):
    """``name op "value"`` in Alertmanager's syntax (``=``, ``!=``, ``=~``, ``!~``; regexes anchored)."""

    name: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: object) -> object:
        if not isinstance(data, str):
            return data
        m = _MATCHER.match(data)
        if not m:
            raise ValueError(f'{data!r} is not a matcher: write name="value", name!="value", name=~"re" or name!~"re"')
        return {"name": m.group(1), "op": m.group(2), "value": re.sub(r"\\(.)", r"\1", m.group(3))}

    @model_validator(mode="after")
    def _regex(self) -> MatcherConfig:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValueError(f"matcher {self.name}{self.op}: invalid regex: {exc}") from None
        return self


# --- notification channels ------------------------------------------------------------


class _Channel(_Model):
    name: Name
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="one delivery attempt, all of it")
    concurrency: int = Field(default=4, ge=1, le=64, description="deliveries in flight on this channel at once")


class SlackChannel(_Channel):
    """Slack: an incoming webhook (``url``, the secret), or the Web API with a bot token.

    With ``bot_token`` and ``channel`` messages go through ``chat.postMessage`` and every
    later message about an incident (escalation, acknowledgement, resolution) is a reply in
    the thread of its first one. An incoming webhook cannot thread: one message per change.
    """

    kind: Literal["slack"] = "slack"
    url: SecretSource | None = Field(default=None, description="incoming webhook URL")
    bot_token: SecretSource | None = Field(default=None, description="xoxb-… token with chat:write")
    channel: str | None = Field(default=None, min_length=1, max_length=80, description="channel ID, for bot_token")
    api_url: str = Field(default="https://slack.com/api", pattern=r"^https?://", description="Slack Web API base")

    @model_validator(mode="after")
    def _one_way(self) -> SlackChannel:
        if (self.url is None) == (self.bot_token is None):
            raise ValueError(f"slack channel {self.name}: give either url (incoming webhook) or bot_token + channel")
        if self.bot_token is not None and self.channel is None:
            raise ValueError(f"slack channel {self.name}: bot_token needs channel (the channel ID, e.g. C0123ABCD)")
        return self


class PagerDutyChannel(_Channel):
    """PagerDuty Events API v2 (``dedup_key`` = the incident, trigger/acknowledge/resolve)."""

    kind: Literal["pagerduty"] = "pagerduty"
    routing_key: SecretSource
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")


class EmailChannel(_Channel):
    """SMTP; each user is mailed at their ``email`` address."""

    kind: Literal["email"] = "email"
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(default="alerts@fanz.com", pattern=r"^[^@\s]+@[^@\s]+$")
    username: str | None = None
    password: SecretSource | None = None
    security: Literal["starttls", "tls", "none"] = Field(default="starttls", description="none: plain (loopback)")


class WebhookChannel(_Channel):
    """A generic JSON webhook (fanzwatch's own incident document)."""

    kind: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    bearer_token: SecretSource | None = None


ChannelConfig = Annotated[SlackChannel | PagerDutyChannel | EmailChannel | WebhookChannel, Field(discriminator="kind")]

# --- people, rotations, escalation ----------------------------------------------------


class UserConfig(_Model):
    name: Name
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    notify: tuple[Name, ...] = Field(min_length=1, description="channel names this user is notified through")


class ScheduleConfig(_Model):
    """A simple rotation: ``users`` take turns, each for a day or a week, from ``start``.

    With ``timezone`` (an IANA name) hand-overs happen at ``start``'s local wall-clock time
    in that zone, on both sides of a daylight-saving change (09:00 in Berlin is 08:00 UTC in
    winter, 07:00 UTC in summer). ``start`` may then be naive (read in the zone). Without a
    zone, ``start`` must carry an offset and hand-overs keep that fixed offset.
    """

    name: Name
    users: tuple[Name, ...] = Field(min_length=1)
    rotation: Literal["daily", "weekly"] = "weekly"
    start: datetime | None = Field(
        default=None, description="first hand-over; default Monday 2024-01-01 09:00 in the zone (UTC without one)"
    )
    timezone: str | None = Field(default=None, description="IANA zone of the hand-over times, e.g. Europe/Berlin")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r}: use an IANA name such as Europe/Berlin") from None
        return v

    @model_validator(mode="after")
    def _aware(self) -> ScheduleConfig:
        if self.start is not None and self.start.tzinfo is None and self.timezone is None:
            raise ValueError(
                "the rotation start needs a time zone: add timezone (IANA, e.g. Europe/Berlin) "
                "or an offset, e.g. 2026-01-05T09:00:00+01:00"
            )
        return self


class EscalationStepConfig(_Model):
    """Notify ``targets`` (``schedule:NAME`` or ``user:NAME``), then wait for an ack."""

    name: str = Field(min_length=1, max_length=64)
    targets: tuple[str, ...] = Field(min_length=1)
    wait: Duration | None = Field(default=None, description="default: the priority's response target")

    @field_validator("targets")
    @classmethod
    def _targets(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if not re.fullmatch(r"(schedule|user):[a-z0-9][a-z0-9_.-]{0,62}", t):
                raise ValueError(f"escalation target {t!r}: write schedule:NAME or user:NAME")
        return v


DEFAULT_STEPS: tuple[EscalationStepConfig, ...] = tuple(
    EscalationStepConfig(name=n, targets=(f"schedule:{n}",))
    for n in ("primary", "secondary", "engineering-lead", "stakeholders")
)
"""The guide's matrix: primary on call, then secondary, the engineering lead, stakeholders.
In the built-in policy a schedule that is not configured is skipped."""


class ImpactRule(_Model):
    """Raise an alert's priority when it matches: to ``priority``, or one step if unset."""

    name: str = Field(min_length=1, max_length=64)
    matchers: tuple[MatcherConfig, ...] = Field(min_length=1)
    priority: Priority | None = None


DEFAULT_IMPACT_RULES: tuple[ImpactRule, ...] = (
    # An SLO's ticket tier (a budget spent over days) stays a ticket, on payments too.
    ImpactRule.model_validate(
        {"name": "payments are affected", "matchers": ['service="payments"', 'sloth_severity!="ticket"']}
    ),
    ImpactRule.model_validate(
        {
            "name": "payment success or revenue is anomalous",
            "matchers": ['alertname="MetricAnomaly"', 'metric=~"payment_success_ratio|revenue.*"'],
        }
    ),
)

# --- remediation ----------------------------------------------------------------------


class _Action(_Model):
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    def templates(self) -> tuple[str, ...]:
        return ()


class HttpAction(_Action):
    """Call an HTTP endpoint; ``{label}`` placeholders in ``url`` and ``body`` values."""

    kind: Literal["http"] = "http"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(pattern=r"^https?://")
    body: dict[str, str] | None = None
    bearer_token: SecretSource | None = None
    expect_status: tuple[int, ...] = Field(default=(), description="accepted codes; default any 2xx")

    def templates(self) -> tuple[str, ...]:
        return (self.url, *(self.body or {}).values())


class PaymentFailoverAction(_Action):
    """Switch a platform to its ``backup`` payment processor (``PUT <platform_url>/admin/payment-processor``)."""

    kind: Literal["payment_failover"] = "payment_failover"
    platform_url: str = Field(pattern=r"^https?://", description="the platform's base URL; may use {platform}")
    target: Literal["backup", "primary"] = "backup"

    def templates(self) -> tuple[str, ...]:
        return (self.platform_url,)


class RestartProcessAction(_Action):
    """Restart a process the stack manages, through the process-control protocol."""

    kind: Literal["restart_process"] = "restart_process"
    process: str = Field(min_length=1, max_length=64)

    def templates(self) -> tuple[str, ...]:
        return (self.process,)


class ShellAction(_Action):
    """Run an allow-listed executable with arguments (no shell); placeholders in arguments only."""

    kind: Literal["shell"] = "shell"
    argv: tuple[str, ...] = Field(min_length=1)

    def templates(self) -> tuple[str, ...]:
        return self.argv[1:]


ActionConfig = Annotated[
    HttpAction | PaymentFailoverAction | RestartProcessAction | ShellAction, Field(discriminator="kind")
]


class PlaybookConfig(_Model):
    """Alerts matching ``matchers`` get ``action``, within the playbook's safety limits."""

    name: Name
    matchers: tuple[MatcherConfig, ...] = Field(min_length=1)
    action: ActionConfig
    label_rules: dict[str, str] = Field(
        default_factory=dict, description="label -> regex its value must fully match before it is used"
    )
    cooldown: Duration = Field(
        default=timedelta(minutes=5),
        description="between two runs of this playbook (per platform when its action uses {platform})",
    )
    max_runs_per_hour: int = Field(default=3, ge=1, le=100)
    max_attempts: int = Field(default=3, ge=1, le=10, description="failed tries before it stops and pages")
    verify_within: Duration = Field(default=timedelta(minutes=5), description="the alert must resolve by then")
    dry_run: bool = False

    @model_validator(mode="after")
    def _placeholders(self) -> PlaybookConfig:
        for label, pattern in self.label_rules.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"playbook {self.name}: label rule {label}: invalid regex: {exc}") from None
        for text in self.action.templates():
            if PLACEHOLDER.sub("", text).count("{") or PLACEHOLDER.sub("", text).count("}"):
                raise ValueError(f"playbook {self.name}: stray brace in {text!r}; placeholders are {{label}}")
            missing = [n for n in PLACEHOLDER.findall(text) if n not in self.label_rules]
            if missing:
                raise ValueError(f"playbook {self.name}: placeholders {missing} need a label_rules entry")
        return self


class RemediationSettings(_Model):
    enabled: bool = Field(default=True, description="run playbooks at all")
    dry_run: bool = Field(default=False, description="decide and audit, never act")
    kill_switch: bool = Field(default=False, description="initial state of the kill switch (then set by API)")
    playbooks: tuple[PlaybookConfig, ...] = ()
    shell_allowlist: tuple[Path, ...] = Field(default=(), description="absolute paths shell actions may run")
    process_control_url: str | None = Field(default=None, pattern=r"^https?://", description="stack runner")
    process_control_token: SecretSource | None = None
    lease: Duration = Field(
        default=timedelta(minutes=2),
        description="a running action's claim: renewed while it runs, taken over by another replica once expired",
    )

    @model_validator(mode="after")
    def _check(self) -> RemediationSettings:
        names = [p.name for p in self.playbooks]
        if len(set(names)) != len(names):
            raise ValueError("playbook names must be unique")
        if self.lease < timedelta(seconds=1):
            raise ValueError("remediation.lease must be at least 1s")
        if any(not p.is_absolute() for p in self.shell_allowlist):
            raise ValueError("shell_allowlist entries must be absolute paths")
        for p in self.playbooks:
            if isinstance(p.action, ShellAction) and Path(p.action.argv[0]) not in self.shell_allowlist:
                raise ValueError(f"playbook {p.name}: {p.action.argv[0]} is not in shell_allowlist")
        return self


class DeliverySettings(_Model):
    """How the outbox retries: backoff with jitter for as long as the message may matter.

    A message is retried (timeouts, connection errors, 429, 5xx) until it is delivered, no
    longer applies (its incident was acknowledged or resolved), or is ``max_age`` old; then
    it fails on the incident's timeline and its recipient is paged another way.
    """

    max_attempts: int | None = Field(
        default=None, ge=1, le=10_000, description="optional cap on attempts; by default only max_age ends retrying"
    )
    max_age: Duration = Field(default=timedelta(hours=24), description="a message still undelivered this old fails")
    backoff_base: Duration = Field(default=timedelta(seconds=2), description="first retry delay, doubled each time")
    backoff_max: Duration = Field(default=timedelta(minutes=5), description="longest backoff (Retry-After may exceed)")
    jitter: float = Field(
        default=0.2, ge=0.0, le=1.0, description="each delay is shortened by a random part up to this fraction"
    )
    poll_interval: Duration = Field(default=timedelta(seconds=1), description="how often due retries are looked for")
    lease: Duration = Field(
        default=timedelta(minutes=2),
        description="a claimed delivery is retaken after this; must exceed every channel's timeout_seconds + 1s",
    )
    fallback_channels: tuple[Name, ...] = Field(
        default=(),
        description="a trigger or page that finally fails, its recipient reached nowhere else, goes here; "
        "without one, the incident's next escalation step runs at once",
    )


class AlertingSettings(ComponentSettings):
    """Alert handling in the fanzwatch server."""

    model_config = SettingsConfigDict(**component_config("alerting"), env_nested_delimiter="__")

    enabled: bool = Field(default=True, description="mount the webhook and incident API")
    webhook_token: SecretSource | None = Field(default=None, description="bearer token Alertmanager must send")
    webhook_basic_username: str | None = Field(default=None, description="or basic auth: user name")
    webhook_basic_password: SecretSource | None = Field(default=None, description="basic auth password")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="largest payload")
    api_token: SecretSource | None = Field(default=None, description="bearer token for ack/resolve/notes/kill switch")
    external_url: str = Field(
        default="http://127.0.0.1:8900",
        description="public base URL of the server: notifications link to <external_url>/dash/incidents/<id>",
    )
    group_by: tuple[str, ...] = Field(
        default=("alertname", "platform"),
        min_length=1,
        description="labels grouping alerts Alertmanager sent ungrouped",
    )
    reopen_window: Duration = Field(
        default=timedelta(minutes=5), description="a group firing again this soon after resolving reopens its incident"
    )
    hold_down: Duration = Field(
        default=timedelta(minutes=2),
        description=(
            "flap damping: an incident whose alerts all resolved stays 'resolving' this long before it resolves and "
            "anyone is told; an alert firing again meanwhile keeps it open silently (0 resolves at once). Keep it "
            "above Alertmanager's group_interval, so a critical handing over to its warning twin is not a resolve"
        ),
    )
    correlation_window: Duration = Field(
        default=timedelta(minutes=15),
        description=(
            "related alerts (the same alert on other platforms, a dependency and its symptoms, a severity twin) "
            "starting this close together are one incident; 0 turns correlation off"
        ),
    )
    symptom_window: Duration = Field(
        default=timedelta(minutes=5),
        description=(
            "a dependency's symptom joins its incident only if it began within this after the dependency's problem "
            "(or, before that alert fires, of another of its symptoms); began = startsAt less its hold annotation"
        ),
    )
    symptom_lead: Duration = Field(
        default=timedelta(minutes=1),
        description="how much earlier than the dependency's problem a symptom may begin and still join (scrape skew)",
    )
    default_priority: Priority = Field(default=Priority.P2, description="for alerts without severity or priority")
    impact_rules: tuple[ImpactRule, ...] = Field(default=DEFAULT_IMPACT_RULES)
    channels: tuple[ChannelConfig, ...] = ()
    users: tuple[UserConfig, ...] = ()
    schedules: tuple[ScheduleConfig, ...] = ()
    escalation: dict[Priority, tuple[EscalationStepConfig, ...]] = Field(
        default_factory=dict, description="steps per priority; a priority not given uses DEFAULT_STEPS"
    )
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    remediation: RemediationSettings = Field(default_factory=RemediationSettings)
    tick_interval: Duration = Field(default=timedelta(seconds=1), description="escalation/verification check period")
    retention: Duration = Field(
        default=timedelta(days=30),
        description="processed webhook payloads and alert-event keys of closed incidents are deleted after this",
    )

    @model_validator(mode="after")
    def _references(self) -> AlertingSettings:
        channels = {c.name: c for c in self.channels}
        users = {u.name for u in self.users}
        schedules = {s.name for s in self.schedules}
        for group, names in (("channels", [c.name for c in self.channels]), ("users", [u.name for u in self.users])):
            if len(set(names)) != len(names):
                raise ValueError(f"{group}: names must be unique")
        for u in self.users:
            for c in u.notify:
                if c not in channels:
                    raise ValueError(f"user {u.name}: unknown channel {c!r} (configured: {sorted(channels)})")
                if channels[c].kind == "email" and not u.email:
                    raise ValueError(f"user {u.name}: notified by e-mail but has no email address")
        for channel in self.channels:
            # A claim must outlast the attempt it covers (the notifier's timeout plus the
            # dispatcher's 1 s hard cap): otherwise another replica retakes a delivery still in
            # flight and the receiver gets it twice.
            if self.delivery.lease.total_seconds() <= channel.timeout_seconds + 1.0:
                raise ValueError(
                    f"channel {channel.name}: timeout_seconds {channel.timeout_seconds:g} needs delivery.lease above "
                    f"{channel.timeout_seconds + 1.0:g}s (is {self.delivery.lease.total_seconds():g}s), or a delivery "
                    "still in flight is retaken and sent twice"
                )
        for c in self.delivery.fallback_channels:
            if c not in channels:
                raise ValueError(f"delivery.fallback_channels: unknown channel {c!r} (configured: {sorted(channels)})")
        for s in self.schedules:
            if unknown := set(s.users) - users:
                raise ValueError(f"schedule {s.name}: unknown users {sorted(unknown)}")
        for priority, steps in self.escalation.items():
            for step in steps:
                for target in step.targets:
                    kind, name = target.split(":", 1)
                    if name not in (schedules if kind == "schedule" else users):
                        raise ValueError(f"escalation {priority} step {step.name!r}: unknown {kind} {name!r}")
        return self

    def steps_for(self, priority: Priority) -> tuple[EscalationStepConfig, ...]:
        """The configured policy, or the built-in one without unconfigured schedules."""
        if priority in self.escalation:
            return self.escalation[priority]
        known = {s.name for s in self.schedules}
        return tuple(s for s in DEFAULT_STEPS if all(t.split(":", 1)[1] in known for t in s.targets))


def load_alerting_settings(path: Path | None = None) -> AlertingSettings:
    """Settings from a YAML file (``path`` or ``FANZWATCH_ALERTING_CONFIG_FILE``) over the environment."""
    path = path or (Path(p) if (p := os.environ.get("FANZWATCH_ALERTING_CONFIG_FILE")) else None)
    if path is None:
        return AlertingSettings()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", setting="alerting.config_file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", setting="alerting.config_file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of alerting settings", setting="alerting.config_file")
    return AlertingSettings(**data)
