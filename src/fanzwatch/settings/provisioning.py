"""Settings of the rendered monitoring configuration (``fanzwatch render``, ``fanzwatch up``).

What Prometheus scrapes, how often, where alerts go and where secrets are read from.
Secrets are never settings values here: only the *directory* Alertmanager reads them
from, so nothing secret can end up in a rendered file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from ._base import ComponentSettings, component_config

_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def _check_host_port(value: str) -> str:
    match = _HOST_PORT.match(value)
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:8900)")
    return value


def _prometheus_duration(value: object) -> object:
    """Accept ``15s``/``500ms``/``1h`` and bare seconds (``"15"``, as env vars give) as well."""
    if isinstance(value, str):
        text = value.strip()
        match = _DURATION.match(text)
        if match:
            return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return timedelta(seconds=float(text))
    return value


CLICKHOUSE_SCHEMES = ("http", "https", "clickhouse", "tcp")
"""HTTP interface (Grafana's ``http`` protocol) or native protocol (``native``)."""
CLICKHOUSE_PASSWORD_FILE = "clickhouse_password"
"""In the secrets dir: the password of ``clickhouse_username``, read by Grafana (``$__file{...}``)."""

RATE_WINDOW_MIN_SCRAPES = 4
"""A rate window must span this many scrape intervals: with fewer, one missed scrape
leaves ``rate()`` a single sample and the series (and every alert on it) disappears."""


def check_rate_window(rate_window: timedelta, scrape_interval: timedelta) -> None:
    """Raise ``ValueError`` unless ``rate_window`` spans enough scrapes to be robust."""
    if rate_window < RATE_WINDOW_MIN_SCRAPES * scrape_interval:
        raise ValueError(
            f"rate_window {rate_window.total_seconds():g}s must be at least {RATE_WINDOW_MIN_SCRAPES} scrape "
            f"intervals ({RATE_WINDOW_MIN_SCRAPES * scrape_interval.total_seconds():g}s); lengthen it or scrape "
            "more often"
        )


class StackTargets(BaseModel):
    """Where the parts of the stack listen, as ``host:port``: what Prometheus scrapes.

    The stack runner builds this from the ports it picked:

    >>> StackTargets(fanzwatch="127.0.0.1:8900", platforms=("127.0.0.1:8001",)).platforms
    ('127.0.0.1:8001',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fanzwatch: str = Field(default="127.0.0.1:8900", description="the fanzwatch server (also the alert webhook)")
    prometheus: str = Field(default="127.0.0.1:9090", description="Prometheus itself (self-scrape, Grafana)")
    alertmanager: str = Field(default="127.0.0.1:9093", description="Alertmanager")
    platforms: tuple[str, ...] = Field(default=(), description="FANZ platform services exposing /metrics")
    payment_processor: tuple[str, ...] = Field(default=(), description="payment processor exporters")
    node_exporter: tuple[str, ...] = Field(default=("127.0.0.1:9100",), description="node_exporter instances")
    journey_probers: tuple[str, ...] = Field(default=(), description="journey probers (fanzwatch probe journey)")
    blackbox: str | None = Field(
        default="127.0.0.1:9115", description="blackbox_exporter that runs the synthetic probes (none: no probes)"
    )

    @field_validator("fanzwatch", "prometheus", "alertmanager")
    @classmethod
    def _one(cls, v: str) -> str:
        return _check_host_port(v)

    @field_validator("blackbox")
    @classmethod
    def _optional(cls, v: str | None) -> str | None:
        return None if v is None else _check_host_port(v)

    @field_validator("platforms", "payment_processor", "node_exporter", "journey_probers")
    @classmethod
    def _many(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for item in v:
            _check_host_port(item)
        if len(set(v)) != len(v):
            raise ValueError("targets must be unique")
        return v


class ExtraWebhook(BaseModel):
    """One more webhook Alertmanager notifies with every alert (besides the fanzwatch server).

    A chat-ops bot, an external incident tool, a test's receiver. ``bearer_token_file`` is
    sent as ``Authorization: Bearer <file contents>`` (Alertmanager reads the file at send
    time, so the token is never written); a relative name is looked up in ``secrets_dir``.

    >>> ExtraWebhook(url="https://hooks.example.org/alerts", bearer_token_file=Path("hooks_token"))
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="http(s) URL Alertmanager POSTs its webhook JSON to")
    bearer_token_file: Path | None = Field(
        default=None, description="file holding the bearer token; relative names are inside secrets_dir"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            # The URL is written into alertmanager.yml: credentials in it would leak.
            raise ValueError("put no credentials in a webhook URL; use bearer_token_file")
        return v


class ProvisioningSettings(ComponentSettings):
    """What ``fanzwatch render`` generates, read from ``FANZWATCH_PROVISIONING_*``.

    Nested target fields use ``__``: ``FANZWATCH_PROVISIONING_TARGETS__FANZWATCH=10.0.0.5:8900``.
    Durations accept Prometheus style (``15s``, ``500ms``), bare seconds (``15``) or ISO 8601.

    >>> s = ProvisioningSettings(scrape_interval=timedelta(seconds=1), for_scale=0.01)
    """

    model_config = SettingsConfigDict(**component_config("provisioning"), env_nested_delimiter="__")

    targets: StackTargets = Field(default_factory=StackTargets, description="what Prometheus scrapes")
    scrape_interval: timedelta = Field(default=timedelta(seconds=15), description="Prometheus scrape interval")
    evaluation_interval: timedelta = Field(default=timedelta(seconds=15), description="rule evaluation interval")
    for_scale: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="multiplies every alert's `for:` hold time; 1 in production, e.g. 0.01 in tests and demos",
    )
    runbook_base_url: str | None = Field(
        default=None,
        description="base of runbook_url annotations (<base>/<Alert>.md); default http://<fanzwatch>/runbooks",
    )
    secrets_dir: Path = Field(
        default=Path("/etc/fanzwatch/secrets"),
        description="directory Alertmanager reads secret files from: slack_api_url, pagerduty_routing_key, "
        "smtp_password, webhook_token; Prometheus reads viewer_token from it",
    )
    slack: bool = Field(default=True, description="notify Slack channels (needs <secrets_dir>/slack_api_url)")
    pagerduty: bool = Field(default=True, description="page through PagerDuty Events v2 (needs pagerduty_routing_key)")
    pagerduty_url: str = Field(default="https://events.pagerduty.com/v2/enqueue", description="Events v2 endpoint")
    email: bool = Field(default=True, description="send e-mail to the on-call and business addresses")
    smtp_smarthost: str = Field(default="localhost:587", description="SMTP server host:port")
    smtp_from: str = Field(default="alerts@fanz.com", description="sender address")
    smtp_auth_username: str | None = Field(
        default=None, description="SMTP user; when set, the password is read from <secrets_dir>/smtp_password"
    )
    smtp_require_tls: bool = Field(default=True, description="require STARTTLS")
    email_oncall: str = Field(default="operations@fanz.com", description="on-call address for critical alerts")
    email_business: str = Field(default="stakeholders@fanz.com", description="address for business alerts")
    webhook_token: bool = Field(
        default=True,
        description="send a bearer token (from <secrets_dir>/webhook_token) to the fanzwatch alert webhook "
        "(the server generates that file in <data_dir>/secrets when no webhook token is set)",
    )
    scrape_token: bool = Field(
        default=True,
        description="scrape the fanzwatch server's /metrics with the bearer token in <secrets_dir>/viewer_token "
        "(a viewer token: /metrics needs one unless FANZWATCH_AUTH_ANONYMOUS_METRICS is set)",
    )
    extra_webhooks: tuple[ExtraWebhook, ...] = Field(
        default=(),
        description="more webhooks notified with every alert (JSON list of {url, bearer_token_file})",
    )
    rate_window: timedelta = Field(
        default=timedelta(minutes=5),
        description="range of the recording rules' rate()/increase() (the `5m` of `_rate5m` series); "
        "at least 4 scrape intervals; shorter in tests and demos so alerts also resolve fast",
    )
    slo_files: tuple[Path, ...] = Field(
        default=(),
        description="OpenSLO v1 YAML files whose SLOs are rendered beside the built-in ones (docs/slos.md)",
    )
    probe_platforms: tuple[str, ...] = Field(
        default=(),
        description="platforms whose landing page (/p/<platform>/) blackbox_exporter probes on every platform "
        "target; these probes feed the probe-availability SLO",
    )
    probe_urls: tuple[str, ...] = Field(
        default=(),
        description="more http(s) URLs to probe for a 2xx (https: also the certificate, alerting 14 days "
        "before it expires)",
    )
    probe_dns_server: str | None = Field(
        default=None,
        description="resolver (host:port) blackbox_exporter asks for the A records of the probe_urls' hosts "
        "(none: no DNS probes)",
    )
    group_wait: timedelta = Field(default=timedelta(seconds=10), description="Alertmanager group_wait")
    group_interval: timedelta = Field(default=timedelta(minutes=1), description="Alertmanager group_interval")
    repeat_interval: timedelta = Field(default=timedelta(hours=4), description="Alertmanager repeat_interval")
    grafana_dashboards_path: str = Field(
        default="/var/lib/grafana/dashboards/fanzwatch",
        description="where Grafana finds the rendered dashboards (the dashboard provider's path)",
    )
    clickhouse_url: str | None = Field(
        default=None,
        description="a ClickHouse server holding otel_traces/otel_logs, provisioned as Grafana's ClickHouse data "
        "source: http(s)://host[:8123] or clickhouse://host[:9000][?secure=true] (none: no such data source)",
    )
    clickhouse_database: str = Field(default="otel", description="the database of otel_traces and otel_logs")
    clickhouse_username: str = Field(
        default="grafana_reader",
        description="the read-only ClickHouse user Grafana logs in as "
        "(its password: <secrets_dir>/clickhouse_password)",
    )

    @field_validator(
        "scrape_interval",
        "evaluation_interval",
        "rate_window",
        "group_wait",
        "group_interval",
        "repeat_interval",
        mode="before",
    )
    @classmethod
    def _durations(cls, v: object) -> object:
        return _prometheus_duration(v)

    @field_validator(
        "scrape_interval", "evaluation_interval", "rate_window", "group_wait", "group_interval", "repeat_interval"
    )
    @classmethod
    def _whole_milliseconds(cls, v: timedelta) -> timedelta:
        if v < timedelta(0) or v % timedelta(milliseconds=1):
            raise ValueError("must be a non-negative whole number of milliseconds")
        return v

    @field_validator("probe_urls")
    @classmethod
    def _probe_urls(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for url in v:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
                raise ValueError(f"{url!r} is not an http(s) URL without credentials")
        return v

    @field_validator("probe_platforms")
    @classmethod
    def _platform_names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
                raise ValueError(f"{name!r} is not a platform name (lowercase letters, digits and -)")
        return v

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        parts = urlsplit(v)
        if parts.scheme not in CLICKHOUSE_SCHEMES or not parts.hostname or parts.username or parts.password:
            raise ValueError(
                f"{v!r} is not an http(s):// or clickhouse:// URL without credentials "
                "(the password goes in <secrets_dir>/clickhouse_password)"
            )
        _ = parts.port  # raises ValueError for a port out of range
        return v

    @field_validator("clickhouse_database", "clickhouse_username")
    @classmethod
    def _clickhouse_identifier(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError(f"{v!r}: letters, digits and underscores only")
        return v

    @field_validator("probe_dns_server")
    @classmethod
    def _dns_server(cls, v: str | None) -> str | None:
        return None if v is None else _check_host_port(v)

    @model_validator(mode="after")
    def _positive_intervals(self) -> ProvisioningSettings:
        for name in ("scrape_interval", "evaluation_interval", "group_interval", "repeat_interval"):
            if getattr(self, name) < timedelta(milliseconds=100):
                raise ValueError(f"{name} must be at least 100ms")
        check_rate_window(self.rate_window, self.scrape_interval)
        if self.runbook_base_url is not None and not re.match(r"^https?://\S+$", self.runbook_base_url):
            raise ValueError("runbook_base_url must be an http(s) URL")
        return self

    @property
    def resolved_extra_webhooks(self) -> tuple[tuple[str, str | None], ...]:
        """``(url, absolute token file or None)`` of each extra webhook, in order."""
        return tuple(
            (hook.url, None if hook.bearer_token_file is None else str(self.secrets_dir / hook.bearer_token_file))
            for hook in self.extra_webhooks
        )

    @property
    def resolved_runbook_base_url(self) -> str:
        """The configured runbook base, else the fanzwatch server's ``/runbooks``."""
        return (self.runbook_base_url or f"http://{self.targets.fanzwatch}/runbooks").rstrip("/")
