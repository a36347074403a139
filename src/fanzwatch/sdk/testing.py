"""Test helpers for services that use the SDK: capture spans and metrics in memory.

>>> def test_payment_is_recorded():
...     with capture_telemetry(platform="fanz-1") as cap:
...         checkout(...)  # code that calls fanzwatch.sdk.record_payment(...)
...         assert cap.get_sample_value("fanz_revenue_total",
...                                     {"platform": "fanz-1", "payment_type": "tip", "currency": "USD"}) == 9.99
...         assert [s.name for s in cap.spans()] == ["payment.process"]

As a pytest fixture::

    @pytest.fixture
    def telemetry_capture():
        with capture_telemetry() as cap:
            yield cap

Nothing global is touched: the captured telemetry is installed in the process
holder for the duration of the ``with`` block and the previous one is restored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ..settings.telemetry import TelemetrySettings
from ._internal.active_users import ActiveUsersTracker, InMemoryActiveUsers
from ._internal.process import PROCESS
from ._internal.setup import build_telemetry
from ._internal.telemetry import Telemetry


@dataclass
class TelemetryCapture:
    """A Telemetry whose spans and metrics stay in memory for assertions."""

    telemetry: Telemetry
    span_exporter: InMemorySpanExporter
    metric_reader: InMemoryMetricReader
    log_exporter: InMemoryLogRecordExporter

    def spans(self) -> tuple[ReadableSpan, ...]:
        """Finished spans, in the order they ended."""
        return tuple(self.span_exporter.get_finished_spans())

    def span(self, name: str) -> ReadableSpan:
        """The one finished span called ``name`` (AssertionError if none or several)."""
        found = [s for s in self.spans() if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {len(found)}: {[s.name for s in self.spans()]}"
        return found[0]

    def logs(self) -> tuple[ReadableLogRecord, ...]:
        """Log records exported by OTLP (those of the root logger inside ``capture_telemetry``)."""
        return tuple(self.log_exporter.get_finished_logs())

    def get_sample_value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """A sample from the Prometheus registry (e.g. ``fanz_revenue_total``), None when absent."""
        return self.telemetry.exposition.registry.get_sample_value(name, labels or {})

    def otel_metrics(self) -> dict[str, Metric]:
        """The OTel mirror's metrics, by name, as an OTLP push would send them now."""
        data = self.metric_reader.get_metrics_data()
        out: dict[str, Metric] = {}
        if data is None:
            return out
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out[metric.name] = metric
        return out

    def otel_points(self, name: str) -> dict[frozenset[tuple[str, Any]], Any]:
        """Data points of one OTel metric keyed by their attributes."""
        metric = self.otel_metrics()[name]
        return {frozenset((p.attributes or {}).items()): p for p in metric.data.data_points}

    def clear(self) -> None:
        self.span_exporter.clear()
        self.log_exporter.clear()


def make_test_telemetry(
    settings: TelemetrySettings | None = None, *, tracker: ActiveUsersTracker | None = None, **overrides: Any
) -> TelemetryCapture:
    """A fresh Telemetry (own registry, in-memory exporter and reader); not installed anywhere."""
    base = settings.model_dump() if settings is not None else {}
    # Explicit values for everything a developer's environment could otherwise set.
    defaults: dict[str, Any] = {
        "otlp_endpoint": None,
        "otlp_traces_endpoint": None,
        "otlp_metrics_endpoint": None,
        "otlp_logs_endpoint": None,
        "otlp_headers": None,
        "otlp_token_file": None,
        "multiprocess_dir": None,
        "traces_sampler": "parentbased_always_on",
        "metrics_port": None,
    }
    resolved = TelemetrySettings(**{**defaults, **base, **overrides})
    exporter = InMemorySpanExporter()
    reader = InMemoryMetricReader()
    logs = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    telemetry = build_telemetry(
        resolved,
        span_exporters=[exporter],
        metric_readers=[reader],
        log_exporters=[logs],
        tracker=tracker or InMemoryActiveUsers(window_s=resolved.active_users_window_s),
    )
    return TelemetryCapture(telemetry, exporter, reader, logs)


@contextmanager
def capture_telemetry(
    settings: TelemetrySettings | None = None, *, tracker: ActiveUsersTracker | None = None, **overrides: Any
) -> Iterator[TelemetryCapture]:
    """A fresh in-memory Telemetry, installed as the process's for the block, shut down after.

    The root logger's records (at the settings' ``logs_export_level`` and above, when the
    root logger lets them through) are captured too: ``cap.logs()``.
    """
    cap = make_test_telemetry(settings, tracker=tracker, **overrides)
    cap.telemetry.attach_log_handler()
    try:
        with PROCESS.installed(cap.telemetry):
            yield cap
    finally:
        cap.telemetry.shutdown()
