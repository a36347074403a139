"""Settings of the instrumentation SDK (``fanzwatch.sdk.init_telemetry``).

Read from ``FANZWATCH_TELEMETRY_*`` first, then from the standard OpenTelemetry
variables, so a service deployed with the usual ``OTEL_*`` environment needs no
extra configuration:

=====================================  ===========================================
field                                  also read from
=====================================  ===========================================
``service_name``                       ``OTEL_SERVICE_NAME``
``resource_attributes``                ``OTEL_RESOURCE_ATTRIBUTES`` (``k=v,k2=v2``)
``otlp_endpoint``                      ``OTEL_EXPORTER_OTLP_ENDPOINT``
``otlp_traces_endpoint``               ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
``otlp_metrics_endpoint``              ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``
``otlp_logs_endpoint``                 ``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``
``otlp_headers``                       ``OTEL_EXPORTER_OTLP_HEADERS`` (``k=v,k2=v2``)
``otlp_timeout_s``                     ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds)
``traces_sampler`` / ``_arg``          ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``
``metrics_export_interval_ms``         ``OTEL_METRIC_EXPORT_INTERVAL``
``multiprocess_dir``                   ``PROMETHEUS_MULTIPROC_DIR``
=====================================  ===========================================

``fanzwatch up`` gives the services it starts ``FANZWATCH_TELEMETRY_OTLP_ENDPOINT`` (its
server's receiver) and ``FANZWATCH_TELEMETRY_OTLP_TOKEN_FILE`` (the receiver's bearer
token), unless an OTLP endpoint is configured already: explicit values always win.

>>> s = TelemetrySettings(service_name="payments", platform="fanz-1", metrics_port=9464)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal
from urllib.parse import unquote

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from ..core.platforms import DEFAULT_PLATFORMS, OTHER_PLATFORM, validate_platforms
from ._base import ComponentSettings, component_config

PROMETHEUS_SERVER_PORT = 9090
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
Instrumentation = Literal["httpx", "requests", "sqlalchemy", "redis"]


def _env(field: str, *standard: str) -> AliasChoices:
    """Our variable first, then the standard ones, in order of precedence."""
    return AliasChoices(f"FANZWATCH_TELEMETRY_{field.upper()}", *standard)


class TelemetrySettings(ComponentSettings):
    """How a FANZ service reports its metrics, traces and logs."""

    model_config = SettingsConfigDict(**component_config("telemetry"), populate_by_name=True)

    service_name: str = Field(
        default="fanz-service",
        min_length=1,
        max_length=128,
        validation_alias=_env("service_name", "OTEL_SERVICE_NAME"),
        description="service.name of the resource and the 'service' label of fanz_errors",
    )
    service_version: str = Field(default="0.0.0", description="service.version of the resource")
    environment: str = Field(default="development", description="deployment.environment.name")
    instance_id: str | None = Field(
        default=None, description="service.instance.id; default: <hostname>-<pid> of the process"
    )
    platform: str = Field(default=OTHER_PLATFORM, description="the FANZ platform this service belongs to")
    platforms: tuple[str, ...] = Field(
        default=DEFAULT_PLATFORMS, description="every configured platform slug; other values become 'other'"
    )
    resource_attributes: str = Field(
        default="",
        validation_alias=_env("resource_attributes", "OTEL_RESOURCE_ATTRIBUTES"),
        description="extra resource attributes, 'key=value,key2=value2' (URL-encoded values)",
    )

    # -- metrics exposure --------------------------------------------------------------
    metrics_path: str | None = Field(
        default="/metrics",
        description="path the TelemetryMiddleware answers with the Prometheus exposition; None: off",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="also serve /metrics on this separate port (never 9090: that is Prometheus's own)",
    )
    metrics_host: str = Field(default="127.0.0.1", description="interface of the separate metrics port")
    multiprocess_dir: Path | None = Field(
        default=None,
        validation_alias=_env("multiprocess_dir", "PROMETHEUS_MULTIPROC_DIR"),
        description="prometheus_client multiprocess directory; must also be in the environment of the "
        "parent process before workers start (gunicorn / uvicorn --workers)",
    )

    memory_limit_bytes: int | None = Field(
        default=None,
        gt=0,
        description="memory the process may use, exposed as fanz_process_memory_limit_bytes when the "
        "process has no cgroup memory limit (a cgroup limit wins); None: total RAM",
    )

    # -- OTLP ----------------------------------------------------------------------------
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("otlp_endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="base OTLP http/protobuf endpoint, e.g. http://collector:4318 (/v1/traces is appended)",
    )
    otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("otlp_traces_endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        description="full OTLP traces URL; overrides otlp_endpoint for traces",
    )
    otlp_metrics_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("otlp_metrics_endpoint", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
        description="full OTLP metrics URL; when set, metrics are also pushed by OTLP",
    )
    otlp_logs_endpoint: str | None = Field(
        default=None,
        validation_alias=_env("otlp_logs_endpoint", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"),
        description="full OTLP logs URL; overrides otlp_endpoint for logs",
    )
    otlp_headers: SecretStr | None = Field(
        default=None,
        validation_alias=_env("otlp_headers", "OTEL_EXPORTER_OTLP_HEADERS"),
        description="headers sent with every OTLP export, 'key=value,key2=value2' (URL-encoded values)",
    )
    otlp_token_file: Path | None = Field(
        default=None,
        description="file holding a bearer token for the OTLP receiver (sent as Authorization: Bearer ...); "
        "read when telemetry is built. fanzwatch up's receiver token is <secrets_dir>/otlp_token",
    )
    otlp_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=60,
        validation_alias=_env("otlp_timeout_s", "OTEL_EXPORTER_OTLP_TIMEOUT"),
        description="time one OTLP export may take, retries included; an endpoint that does not answer "
        "is then left alone for a while (exports dropped and counted, one warning)",
    )
    logs_export: bool = Field(
        default=True,
        description="with an OTLP logs endpoint, also export log records (with the active span's ids) by OTLP",
    )
    logs_export_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="the least severe log record exported by OTLP"
    )
    metrics_export_interval_ms: int = Field(
        default=60_000,
        ge=100,
        validation_alias=_env("metrics_export_interval_ms", "OTEL_METRIC_EXPORT_INTERVAL"),
        description="OTLP metrics push period",
    )

    # -- traces ----------------------------------------------------------------------------
    tracing: bool = Field(default=True, description="create server spans in the middleware and helper spans")
    traces_sampler: str = Field(
        default="parentbased_always_on",
        validation_alias=_env("traces_sampler", "OTEL_TRACES_SAMPLER"),
        description=f"one of {', '.join(SAMPLERS)}",
    )
    traces_sampler_arg: float = Field(
        default=1.0,
        validation_alias=_env("traces_sampler_arg", "OTEL_TRACES_SAMPLER_ARG"),
        description="sampling ratio (0-1) for the traceidratio samplers",
    )
    auto_instrument: tuple[Instrumentation, ...] = Field(
        default=("httpx", "requests", "sqlalchemy", "redis"),
        description="client libraries to instrument when they are installed",
    )

    # -- middleware ----------------------------------------------------------------------
    slow_request_threshold_s: float = Field(
        default=1.0, gt=0, description="requests slower than this log a structured warning"
    )
    excluded_paths: tuple[str, ...] = Field(
        default=("/metrics", "/health"),
        description="paths left out of metrics and traces; each matches itself and everything below it",
    )

    # -- active users ----------------------------------------------------------------------
    active_users_window_s: float = Field(default=300.0, gt=0, description="'active' means seen this recently")
    active_users_redis_url: str | None = Field(
        default=None, description="Redis URL for the cross-worker active-users tracker; None: in memory"
    )
    active_users_key_prefix: str = Field(default="fanzwatch:active", description="Redis key prefix")
    active_users_flush_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="how often buffered marks are written to Redis"
    )

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return validate_platforms(v)

    @field_validator("metrics_port")
    @classmethod
    def _not_prometheus_port(cls, v: int | None) -> int | None:
        if v == PROMETHEUS_SERVER_PORT:
            raise ValueError("metrics_port 9090 is the Prometheus server's own port; pick another (e.g. 9464)")
        return v

    @field_validator("metrics_path")
    @classmethod
    def _path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError("metrics_path must start with '/'")
        return v or None

    @field_validator("excluded_paths")
    @classmethod
    def _excluded(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in v if not p.startswith("/")]
        if bad:
            raise ValueError(f"excluded paths must start with '/': {bad}")
        return tuple(p.rstrip("/") or "/" for p in v)

    @field_validator("traces_sampler")
    @classmethod
    def _sampler(cls, v: str) -> str:
        if v.lower() not in SAMPLERS:
            raise ValueError(f"traces_sampler {v!r} is not supported; use one of {', '.join(SAMPLERS)}")
        return v.lower()

    @field_validator("traces_sampler_arg")
    @classmethod
    def _ratio(cls, v: float) -> float:
        if math.isnan(v) or not 0.0 <= v <= 1.0:
            raise ValueError("traces_sampler_arg must be a ratio between 0 and 1")
        return v

    @field_validator("resource_attributes")
    @classmethod
    def _resource(cls, v: str) -> str:
        _parse_resource_attributes(v)
        return v

    @model_validator(mode="after")
    def _platform_known(self) -> TelemetrySettings:
        if self.platform != OTHER_PLATFORM and self.platform not in self.platforms:
            raise ValueError(f"platform {self.platform!r} is not one of the configured platforms {self.platforms}")
        return self

    @property
    def extra_resource_attributes(self) -> dict[str, str]:
        """``resource_attributes`` parsed, as OTEL_RESOURCE_ATTRIBUTES is."""
        return _parse_resource_attributes(self.resource_attributes)

    @property
    def traces_endpoint(self) -> str | None:
        """Where spans go: the traces URL, else the base endpoint + /v1/traces, else nowhere."""
        if self.otlp_traces_endpoint:
            return self.otlp_traces_endpoint
        if self.otlp_endpoint:
            return self.otlp_endpoint.rstrip("/") + "/v1/traces"
        return None

    @property
    def logs_endpoint(self) -> str | None:
        """Where log records go: the logs URL, else the base endpoint + /v1/logs, else nowhere."""
        if not self.logs_export:
            return None
        if self.otlp_logs_endpoint:
            return self.otlp_logs_endpoint
        if self.otlp_endpoint:
            return self.otlp_endpoint.rstrip("/") + "/v1/logs"
        return None

    @property
    def extra_otlp_headers(self) -> dict[str, str]:
        """``otlp_headers`` parsed (values URL-decoded, as OTEL_EXPORTER_OTLP_HEADERS is).

        Checked when telemetry is built, not here: a validation error would echo the value.
        """
        if self.otlp_headers is None:
            return {}
        return _parse_resource_attributes(self.otlp_headers.get_secret_value(), what="OTLP header")


def _parse_resource_attributes(raw: str, *, what: str = "resource attribute") -> dict[str, str]:
    out: dict[str, str] = {}
    for n, item in enumerate(raw.split(","), start=1):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            # A header's text may be a secret: name it by position only.
            shown = repr(item) if what == "resource attribute" else f"number {n}"
            raise ValueError(f"{what} {shown} is not key=value")
        out[key.strip()] = unquote(value.strip())
    return out
