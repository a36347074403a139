"""OTLP exporters that stay quiet when nothing listens: bounded retries, one warning, a pause.

The OpenTelemetry HTTP exporters retry a failed export for up to their timeout and log a
warning per retry and an error per batch. A service started without the stack (or
before it) would log several lines every few seconds. ``ExportBreaker`` wraps each
export: the exporter's own log lines during it are held back, the first failure of a
streak is logged once (with the exporter's reason), exports are then skipped (dropped
and counted) for a pause that doubles up to a minute, and the first success after a
streak is logged once more. Nothing is ever raised into the host.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("fanzwatch.sdk.export")

#: Loggers of the OpenTelemetry exporters whose records are held back during our exports.
EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.common.http",
)
FIRST_PAUSE_S = 5.0
MAX_PAUSE_S = 60.0

_local = threading.local()
R = TypeVar("R")


def in_export() -> bool:
    """Whether this thread is inside an export (its log records must not be exported)."""
    return getattr(_local, "held", None) is not None


class _HoldBack(logging.Filter):
    """Drops the exporter's records while the current thread is inside a breaker's export."""

    def filter(self, record: logging.LogRecord) -> bool:
        held: list[str] | None = getattr(_local, "held", None)
        if held is None:
            return True
        if len(held) < 4:
            held.append(record.getMessage()[:300])
        return False


_FILTER = _HoldBack()
_installed = False
_install_lock = threading.Lock()


def _install_filter() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        for name in EXPORTER_LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)
        _installed = True


class ExportBreaker:
    """Runs exports for one signal; skips them for a growing pause after a failure.

    >>> breaker = ExportBreaker("spans", "http://127.0.0.1:8000/v1/traces", on_failure=print)
    """

    def __init__(
        self,
        signal: str,
        endpoint: str,
        *,
        on_failure: Callable[[str], None],
        component: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signal = signal
        self.endpoint = endpoint
        self._on_failure = on_failure
        self._component = component
        self._clock = clock
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._pause = 0.0
        self.failures = 0
        self.skipped = 0
        _install_filter()

    @property
    def failing(self) -> bool:
        return self._pause > 0

    def run(self, count: int, export: Callable[[], bool]) -> bool:
        """Export ``count`` items with ``export`` (True on success) unless paused."""
        with self._lock:
            if self._clock() < self._paused_until:
                self.skipped += count
                self._on_failure(self._component)
                return False
        held: list[str] = []
        _local.held = held
        try:
            ok = export()
        except Exception as exc:
            held.append(f"{type(exc).__name__}: {exc}"[:300])
            ok = False
        finally:
            _local.held = None
        with self._lock:
            if ok:
                if self._pause:
                    logger.info("OTLP %s export to %s works again", self.signal, self.endpoint)
                self._pause = 0.0
                self._paused_until = 0.0
                return True
            self.failures += 1
            first = self._pause == 0
            self._pause = FIRST_PAUSE_S if first else min(self._pause * 2, MAX_PAUSE_S)
            self._paused_until = self._clock() + self._pause
        self._on_failure(self._component)
        if first:
            reason = held[0] if held else "no reason given"
            logger.warning(
                "OTLP %s export to %s failed (%s); %d %s dropped. Exports pause for %.0f s to %.0f s "
                "between tries until it answers; this is logged once",
                self.signal,
                self.endpoint,
                reason,
                count,
                self.signal,
                FIRST_PAUSE_S,
                MAX_PAUSE_S,
            )
        else:
            logger.debug("OTLP %s export to %s still failing; %d dropped", self.signal, self.endpoint, count)
        return False


class QuietSpanExporter(SpanExporter):
    """A span exporter behind an :class:`ExportBreaker`."""

    def __init__(self, inner: SpanExporter, breaker: ExportBreaker) -> None:
        self._inner = inner
        self.breaker = breaker

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = self.breaker.run(len(spans), lambda: self._inner.export(spans) is SpanExportResult.SUCCESS)
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        _quietly(self._inner.shutdown)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class QuietLogExporter(LogRecordExporter):
    """A log record exporter behind an :class:`ExportBreaker`."""

    def __init__(self, inner: LogRecordExporter, breaker: ExportBreaker) -> None:
        self._inner = inner
        self.breaker = breaker

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        ok = self.breaker.run(len(batch), lambda: _log_success(self._inner.export(batch)))
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        _quietly(self._inner.shutdown)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self._inner.force_flush(timeout_millis))


def _log_success(result: Any) -> bool:
    # The enum was renamed (LogExportResult -> LogRecordExportResult); compare by name.
    return getattr(result, "name", "") == "SUCCESS"


def _quietly(fn: Callable[[], object]) -> None:
    held: list[str] = []
    _local.held = held
    try:
        fn()
    finally:
        _local.held = None
