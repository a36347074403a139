"""``Telemetry``: everything one service reports with, built once and passed around."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from ...core import ConfigError
from ...core.catalog import runtime
from ...settings.telemetry import TelemetrySettings
from .business import BusinessMetrics
from .db_pool import DbPoolCollector, DbPoolEventGauges, read_pool, sync_engine
from .exposition import Exposition
from .instruments import SdkInstruments, build_prometheus_metric
from .otel_metrics import OtelMirror
from .otlp_logs import OtlpLogHandler

logger = logging.getLogger("fanzwatch.sdk")


@dataclass(eq=False)
class Telemetry:
    """A service's telemetry: registry and instruments, tracer, business API, exposition.

    Build it with :func:`~fanzwatch.sdk.init_telemetry` (once per process) or, in
    tests, with :func:`fanzwatch.sdk.testing.capture_telemetry`.

    >>> telemetry = init_telemetry(service_name="payments", platform="fanz-1")
    >>> telemetry.business.record_upload(content_type="video", creator_tier="top")
    >>> telemetry.shutdown()
    """

    settings: TelemetrySettings
    registry: CollectorRegistry
    instruments: SdkInstruments
    business: BusinessMetrics
    exposition: Exposition
    tracer_provider: TracerProvider
    tracer: Tracer
    mirror: OtelMirror | None = None
    logger_provider: LoggerProvider | None = None
    """Exports log records by OTLP when a logs endpoint (or test exporter) is configured."""
    log_handler: OtlpLogHandler | None = None
    """The ``logging`` handler feeding ``logger_provider``; see :meth:`attach_log_handler`."""
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _engines: dict[str, Engine] = field(default_factory=dict, init=False, repr=False)
    _pool_collector: DbPoolCollector | None = field(default=None, init=False, repr=False)
    _pool_gauges: DbPoolEventGauges | None = field(default=None, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)
    _log_targets: list[logging.Logger] = field(default_factory=list, init=False, repr=False)

    @property
    def multiprocess(self) -> bool:
        return self.settings.multiprocess_dir is not None

    @property
    def platform(self) -> str:
        return self.settings.platform

    def count_failure(self, component: str) -> None:
        """Count a failure inside telemetry (``fanz_telemetry_failures_total``); never raises."""
        try:
            self.instruments.counter(runtime.TELEMETRY_FAILURES.name).labels(component).inc()
        except Exception:  # pragma: no cover - counting must never take the host down
            logger.exception("could not count a telemetry failure")

    def render_metrics(self, accept: str = "") -> tuple[bytes, str]:
        """The Prometheus exposition of this service (all workers in multiprocess mode)."""
        return self.exposition.render(accept)

    def instrument_db_pool(self, engine: Engine | AsyncEngine, *, pool_name: str) -> None:
        """Report ``engine``'s pool as ``db_client_connection_count`` / ``_max`` (label ``pool_name``).

        Raises :class:`~fanzwatch.core.ConfigError` for pools that cannot be read
        (only QueuePool can) or a pool name already in use.
        """
        if pool_name in self._engines:
            raise ConfigError(f"a DB pool named {pool_name!r} is already instrumented", setting="pool_name")
        eng = sync_engine(engine)
        read_pool(eng.pool)
        self._engines[pool_name] = eng
        if self.multiprocess:
            if self._pool_gauges is None:
                count = build_prometheus_metric(runtime.DB_CONNECTION_COUNT, self.registry, multiprocess_mode="livesum")
                limit = build_prometheus_metric(runtime.DB_CONNECTION_MAX, self.registry, multiprocess_mode="livesum")
                assert isinstance(count, Gauge) and isinstance(limit, Gauge)
                self._pool_gauges = DbPoolEventGauges(count, limit, self.platform)
            self._pool_gauges.add(eng, pool_name)
        else:
            if self._pool_collector is None:
                self._pool_collector = DbPoolCollector(self.platform)
                self.registry.register(self._pool_collector)
            self._pool_collector.add(eng, pool_name)
        if self.mirror is not None and len(self._engines) == 1:
            self.mirror.observe_gauge(runtime.DB_CONNECTION_COUNT, self._pool_observations)
            self.mirror.observe_gauge(runtime.DB_CONNECTION_MAX, self._pool_max_observations)

    def _pool_observations(self) -> list[tuple[float, dict[str, str]]]:
        out: list[tuple[float, dict[str, str]]] = []
        for name, engine in self._engines.items():
            state = read_pool(engine.pool)
            out.append((state.used, {"platform": self.platform, "pool_name": name, "state": "used"}))
            out.append((state.idle, {"platform": self.platform, "pool_name": name, "state": "idle"}))
        return out

    def _pool_max_observations(self) -> list[tuple[float, dict[str, str]]]:
        out: list[tuple[float, dict[str, str]]] = []
        for name, engine in self._engines.items():
            state = read_pool(engine.pool)
            if state.max is not None:
                out.append((state.max, {"platform": self.platform, "pool_name": name}))
        return out

    def attach_log_handler(self, target: logging.Logger | None = None) -> None:
        """Export ``target``'s records (default: the root logger's) by OTLP until shutdown.

        A no-op without a logs exporter. ``init_telemetry`` does this for the root logger;
        a service built with ``build_telemetry`` calls it where it sets up its logging.
        """
        handler = self.log_handler
        if handler is None:
            return
        where = target if target is not None else logging.getLogger()
        if handler in where.handlers:
            return
        where.addHandler(handler)
        self._log_targets.append(where)

    def _detach_log_handler(self) -> None:
        handler, targets = self.log_handler, self._log_targets
        while handler is not None and targets:
            targets.pop().removeHandler(handler)

    def force_flush(self, timeout_millis: int = 10_000) -> bool:
        """Export pending spans and log records (and metrics, when pushed) now."""
        ok = self.tracer_provider.force_flush(timeout_millis)
        if self.logger_provider is not None:
            ok = self.logger_provider.force_flush(timeout_millis) and ok
        if self.mirror is not None:
            ok = self.mirror.provider.force_flush(timeout_millis) and ok
        return ok

    def shutdown(self) -> None:
        """Flush and stop exporters, the metrics port, the tracker. Idempotent; never raises."""
        if self._closed:
            return
        self._closed = True
        # Exporters first (their final export still reads the tracker and pools), then the rest.
        steps: list[tuple[str, Callable[[], object]]] = [
            ("log_handler", self._detach_log_handler),
            ("tracer_provider", self.tracer_provider.shutdown),
        ]
        if self.logger_provider is not None:
            steps.append(("logger_provider", self.logger_provider.shutdown))
        if self.mirror is not None:
            steps.append(("meter_provider", self.mirror.shutdown))
        steps.append(("active_users", self.business.tracker.close))
        steps.extend((f"closer_{i}", fn) for i, fn in enumerate(reversed(self.closers)))
        for name, step in steps:
            try:
                step()
            except Exception:
                logger.exception("telemetry shutdown step %s failed", name)
                self.count_failure("shutdown")
