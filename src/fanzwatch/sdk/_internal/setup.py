"""Building telemetry: ``build_telemetry`` (pure, for tests) and ``init_telemetry`` (once per process)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.sdk.version import __version__ as otel_sdk_version
from prometheus_client import CollectorRegistry, ProcessCollector, values

from ... import __version__
from ...core import ConfigError
from ...core.catalog import business, runtime
from ...settings.telemetry import TelemetrySettings
from .active_users import ActiveUsersCollector, ActiveUsersTracker, InMemoryActiveUsers
from .business import BusinessMetrics
from .export import ExportBreaker, QuietLogExporter, QuietSpanExporter
from .exposition import Exposition, MetricsPortServer
from .instruments import SdkInstruments
from .memory import MemoryLimitCollector
from .otel_metrics import GuardedMetricExporter, build_mirror
from .otlp_logs import OtlpLogHandler
from .process import INSTRUMENTATION_NAME, PROCESS
from .telemetry import Telemetry

logger = logging.getLogger("fanzwatch.sdk")

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
# library -> (module to detect, instrumentor module, instrumentor class)
_INSTRUMENTORS: dict[str, tuple[str, str, str]] = {
    "httpx": ("httpx", "opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
    "requests": ("requests", "opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
    "sqlalchemy": ("sqlalchemy", "opentelemetry.instrumentation.sqlalchemy", "SQLAlchemyInstrumentor"),
    "redis": ("redis", "opentelemetry.instrumentation.redis", "RedisInstrumentor"),
}


class GuardedSpanExporter(SpanExporter):
    """Wraps an exporter so a failure is logged and counted, never raised into the host."""

    def __init__(self, inner: SpanExporter, on_failure: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_failure = on_failure

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception:
            logger.exception("span export raised; %d spans dropped", len(spans))
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self._on_failure("otlp_trace_export")
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


def build_resource(settings: TelemetrySettings) -> Resource:
    """Resource attributes; explicitly set fields win over OTEL_RESOURCE_ATTRIBUTES, which wins over defaults."""
    extra = settings.extra_resource_attributes
    explicit = settings.model_fields_set
    ours = {
        "service.name": ("service_name", settings.service_name),
        "service.version": ("service_version", settings.service_version),
        "deployment.environment.name": ("environment", settings.environment),
        "service.instance.id": ("instance_id", settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"),
        "fanz.platform": ("platform", settings.platform),
    }
    attrs: dict[str, str] = {
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": otel_sdk_version,
        **extra,
    }
    for key, (field_name, value) in ours.items():
        if field_name in explicit or key not in extra:
            attrs[key] = value
    return Resource(attrs)


def build_sampler(settings: TelemetrySettings) -> Sampler:
    ratio = TraceIdRatioBased(settings.traces_sampler_arg)
    return {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": ratio,
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBased(ratio),
    }[settings.traces_sampler]


def _check_multiprocess(settings: TelemetrySettings) -> None:
    directory = settings.multiprocess_dir
    if directory is None:
        return
    if not directory.is_dir():
        raise ConfigError(f"multiprocess_dir {directory} is not a directory; create it (empty) before starting")
    # prometheus_client picks its value class when it is imported, from the environment.
    if getattr(values.ValueClass, "__name__", "") != "MmapedValue" or os.environ.get("PROMETHEUS_MULTIPROC_DIR") != str(
        directory
    ):
        raise ConfigError(
            "multiprocess metrics need PROMETHEUS_MULTIPROC_DIR="
            f"{directory} in the environment before the process starts (set it for gunicorn/uvicorn itself)",
            setting="multiprocess_dir",
        )


def build_telemetry(
    settings: TelemetrySettings | None = None,
    *,
    registry: CollectorRegistry | None = None,
    span_exporters: Sequence[SpanExporter] = (),
    metric_readers: Sequence[MetricReader] = (),
    log_exporters: Sequence[LogRecordExporter] = (),
    tracker: ActiveUsersTracker | None = None,
) -> Telemetry:
    """A complete Telemetry without touching any process-wide state.

    ``span_exporters`` and ``log_exporters`` are attached with a synchronous processor
    (tests read them immediately); the configured OTLP endpoints get batching ones, behind
    an :class:`ExportBreaker` (an endpoint that does not answer costs one warning, not a
    stream of them). ``metric_readers`` (e.g. ``InMemoryMetricReader``) turn on the OTel
    mirror of the catalog instruments. The log handler is built, not attached: see
    :meth:`Telemetry.attach_log_handler`.
    """
    settings = settings or TelemetrySettings()
    _check_multiprocess(settings)
    registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
    instruments = SdkInstruments(registry, settings.platforms)
    failures: list[Telemetry] = []

    def on_failure(component: str) -> None:
        if failures:
            failures[0].count_failure(component)

    resource = build_resource(settings)
    provider = TracerProvider(resource=resource, sampler=build_sampler(settings))
    headers = otlp_headers(settings)
    endpoint = settings.traces_endpoint
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        spans_out = OTLPSpanExporter(endpoint, headers=headers, timeout=settings.otlp_timeout_s)
        breaker = ExportBreaker("spans", endpoint, on_failure=on_failure, component="otlp_trace_export")
        provider.add_span_processor(BatchSpanProcessor(QuietSpanExporter(spans_out, breaker)))
    for exporter in span_exporters:
        provider.add_span_processor(SimpleSpanProcessor(GuardedSpanExporter(exporter, on_failure)))
    logger_provider = _build_logger_provider(settings, resource, headers, log_exporters, on_failure)

    readers = list(metric_readers)
    if settings.otlp_metrics_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        metric_exporter = GuardedMetricExporter(OTLPMetricExporter(settings.otlp_metrics_endpoint), on_failure)
        readers.append(PeriodicExportingMetricReader(metric_exporter, settings.metrics_export_interval_ms))
    mirror = build_mirror(resource, readers) if readers else None

    if tracker is None:
        tracker = _default_tracker(settings, on_failure)
    exposition = Exposition(registry, multiprocess_dir=settings.multiprocess_dir)
    active = ActiveUsersCollector(tracker, settings.platforms, on_failure=on_failure)
    if settings.multiprocess_dir is None:
        registry.register(active)
    else:
        exposition.add_shared(active)
        if isinstance(tracker, InMemoryActiveUsers):
            logger.warning(
                "several worker processes with an in-memory active-users tracker: each scrape sees "
                "one worker's users; set active_users_redis_url for exact counts"
            )
    if mirror is not None:
        mirror.observe_gauge(
            business.ACTIVE_USERS, lambda: [(float(n), {"platform": p}) for p, n in tracker.counts().items()]
        )
    memory = _register_process_metrics(registry, exposition, settings, on_failure)
    if mirror is not None:
        mirror.observe_gauge(runtime.MEMORY_LIMIT, lambda: [(float(memory.read().bytes), {})])

    telemetry = Telemetry(
        settings=settings,
        registry=registry,
        instruments=instruments,
        business=BusinessMetrics(
            instruments,
            platforms=frozenset(settings.platforms),
            platform=settings.platform,
            service=settings.service_name,
            tracker=tracker,
            mirror=mirror,
        ),
        exposition=exposition,
        tracer_provider=provider,
        tracer=provider.get_tracer(INSTRUMENTATION_NAME, __version__),
        mirror=mirror,
        logger_provider=logger_provider,
        log_handler=(
            OtlpLogHandler(logger_provider, level=LOG_LEVELS[settings.logs_export_level])
            if logger_provider is not None
            else None
        ),
    )
    failures.append(telemetry)
    if settings.metrics_port is not None:
        server = MetricsPortServer(exposition, host=settings.metrics_host, port=settings.metrics_port)
        telemetry.closers.append(server.close)
    return telemetry


def otlp_headers(settings: TelemetrySettings) -> dict[str, str]:
    """Headers of every OTLP export: ``otlp_headers``, and the bearer token of ``otlp_token_file``.

    Raises :class:`~fanzwatch.core.ConfigError` when the token file cannot be read or is empty.
    """
    try:
        headers = dict(settings.extra_otlp_headers)
    except ValueError as exc:
        raise ConfigError(str(exc), setting="otlp_headers") from None
    path = settings.otlp_token_file
    if path is not None:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the OTLP token file {path}: {exc.strerror}", setting="otlp_token_file"
            ) from None
        if not token:
            raise ConfigError(f"the OTLP token file {path} is empty", setting="otlp_token_file")
        headers["authorization"] = f"Bearer {token}"
    return headers


def _build_logger_provider(
    settings: TelemetrySettings,
    resource: Resource,
    headers: dict[str, str],
    log_exporters: Sequence[LogRecordExporter],
    on_failure: Callable[[str], None],
) -> LoggerProvider | None:
    endpoint = settings.logs_endpoint
    if not endpoint and not log_exporters:
        return None
    provider = LoggerProvider(resource=resource)
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        logs_out = OTLPLogExporter(endpoint, headers=headers, timeout=settings.otlp_timeout_s)
        breaker = ExportBreaker("log records", endpoint, on_failure=on_failure, component="otlp_log_export")
        provider.add_log_record_processor(BatchLogRecordProcessor(QuietLogExporter(logs_out, breaker)))
    for exporter in log_exporters:
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return provider


def _register_process_metrics(
    registry: CollectorRegistry,
    exposition: Exposition,
    settings: TelemetrySettings,
    on_failure: Callable[[str], None],
) -> MemoryLimitCollector:
    """``process_*`` (RSS, CPU, fds) and ``fanz_process_memory_limit_bytes``.

    One process: prometheus_client's ProcessCollector on the service's registry, unless
    something registered one already. Several workers (multiprocess mode): the scrape
    is answered by whichever worker gets it, so per-process metrics would jump from
    worker to worker under one series; they are left out (prometheus_client's own
    advice), and the memory limit, the same for every worker of the cgroup, is served
    from the aggregating registry.
    """
    limit = MemoryLimitCollector(settings.memory_limit_bytes, on_failure=on_failure)
    if settings.multiprocess_dir is not None:
        exposition.add_shared(limit)
        return limit
    registry.register(limit)
    try:
        ProcessCollector(registry=registry)
    except ValueError:  # duplicated timeseries: the host app registered one on this registry
        logger.debug("process metrics already registered on this registry")
    return limit


def _default_tracker(settings: TelemetrySettings, on_failure: Callable[[str], None]) -> ActiveUsersTracker:
    if settings.active_users_redis_url is None:
        return InMemoryActiveUsers(window_s=settings.active_users_window_s)
    import redis

    from .active_users_redis import RedisActiveUsers

    client = redis.Redis.from_url(settings.active_users_redis_url, socket_timeout=2.0, socket_connect_timeout=2.0)
    return RedisActiveUsers(
        client,
        platforms=settings.platforms,
        key_prefix=settings.active_users_key_prefix,
        window_s=settings.active_users_window_s,
        flush_interval_s=settings.active_users_flush_interval_s,
        on_failure=on_failure,
    )


def init_telemetry(settings: TelemetrySettings | None = None, /, **overrides: Any) -> Telemetry:
    """Initialise this process's telemetry once; later calls return the same object.

    Builds the catalog instruments, the tracer provider (set as the OpenTelemetry
    global so auto-instrumented libraries use it), OTLP exporters when configured
    (log records of the root logger are exported too), auto-instrumentation of the
    installed client libraries, and the metrics port.

    >>> telemetry = init_telemetry(service_name="payments", platform="fanz-3")
    >>> init_telemetry() is telemetry
    True
    """
    with PROCESS.lock:
        current = PROCESS.current
        if current is not None:
            if settings is not None or overrides:
                logger.warning("init_telemetry called again with arguments; keeping the first configuration")
            return current
        if overrides:
            base = settings.model_dump() if settings is not None else {}
            settings = TelemetrySettings(**{**base, **overrides})
        telemetry = build_telemetry(settings)
        _install_globals(telemetry)
        telemetry.attach_log_handler()
        PROCESS.set(telemetry)
        telemetry.closers.insert(0, lambda: PROCESS.set(None) if PROCESS.current is telemetry else None)
        return telemetry


def _install_globals(telemetry: Telemetry) -> None:
    provider = telemetry.tracer_provider
    current = trace.get_tracer_provider()
    if isinstance(current, trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)
    else:
        logger.warning("a global tracer provider is already set; auto-instrumented libraries keep using it")
    for name in telemetry.settings.auto_instrument:
        detect, module, cls = _INSTRUMENTORS[name]
        if importlib.util.find_spec(detect) is None:
            continue
        try:
            instrumentor = getattr(importlib.import_module(module), cls)()
            if instrumentor.is_instrumented_by_opentelemetry:
                continue
            # skip_dep_check: the instrumentors' declared ranges lag behind their libraries
            # (SQLAlchemy 2.1 works with the 2.0 instrumentation); a real failure raises.
            instrumentor.instrument(tracer_provider=provider, skip_dep_check=True)
            if instrumentor.is_instrumented_by_opentelemetry:
                telemetry.closers.append(instrumentor.uninstrument)
        except Exception:
            logger.exception("auto-instrumentation of %s failed; continuing without it", name)
            telemetry.count_failure(f"instrument_{name}")
