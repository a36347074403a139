"""Spans and logs of the payment-with-fraud-check flow, made by the real OpenTelemetry SDK
(tracer and logging providers, their in-memory exporters, their OTLP encoders) and turned
into ``otel_traces`` / ``otel_logs`` rows: spans by the receiver's decoder, log records by
a small mapping of the encoded ``ExportLogsServiceRequest`` (the columns the Collector's
exporter writes)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from fanzwatch.telemetry.otlp import attributes, decode_traces
from fanzwatch.telemetry.store import unix_nano_text

ROUTE = "/p/{platform}/api/v1/content/{content_id}/purchases"
MS = 1_000_000


@dataclass
class Flow:
    spans: list[dict[str, Any]] = field(default_factory=list)
    logs: list[dict[str, Any]] = field(default_factory=list)
    slow_trace: str = ""
    fast_traces: list[str] = field(default_factory=list)
    other_platform_trace: str = ""
    start_ns: int = 0


class _Service:
    def __init__(self, name: str, platform: str) -> None:
        resource = Resource.create({"service.name": name, "fanz.platform": platform})
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.tracer = self.tracer_provider.get_tracer("fanzwatch.tests", "1.0")
        self.logs = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        self.log = logging.getLogger(f"tests.flow.{name}.{platform}")
        self.log.propagate = False
        self.log.setLevel(logging.DEBUG)
        self.log.handlers = [LoggingHandler(logger_provider=self.logger_provider)]

    def rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        spans, rejected = decode_traces(encode_spans(self.spans.get_finished_spans()).SerializeToString())
        assert rejected == 0
        return spans, _log_rows(encode_logs(self.logs.get_finished_logs()).SerializeToString())


def _log_rows(body: bytes) -> list[dict[str, Any]]:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    request.ParseFromString(body)
    rows = []
    for rl in request.resource_logs:
        resource = attributes(rl.resource.attributes)
        for sl in rl.scope_logs:
            for r in sl.log_records:
                rows.append(
                    {
                        "Timestamp": unix_nano_text(r.time_unix_nano or r.observed_time_unix_nano),
                        "TraceId": r.trace_id.hex(),
                        "SpanId": r.span_id.hex(),
                        "TraceFlags": r.flags & 0xFF,
                        "SeverityText": r.severity_text,
                        "SeverityNumber": r.severity_number,
                        "ServiceName": resource.get("service.name", ""),
                        "Body": r.body.string_value,
                        "ResourceSchemaUrl": rl.schema_url,
                        "ResourceAttributes": resource,
                        "ScopeSchemaUrl": sl.schema_url,
                        "ScopeName": sl.scope.name,
                        "ScopeVersion": sl.scope.version,
                        "ScopeAttributes": {},
                        "LogAttributes": {
                            k: v for k, v in attributes(r.attributes).items() if not k.startswith("code.")
                        },
                        "EventName": "",
                    }
                )
    return rows


def _purchase(platform: _Service, processor: _Service, *, t0: int, total_ms: int, fraud_ms: int, fail: bool) -> str:
    root = platform.tracer.start_span("POST " + ROUTE, kind=SpanKind.SERVER, start_time=t0)
    root.set_attribute("http.route", ROUTE)
    root.set_attribute("http.request.method", "POST")
    root.set_attribute("payment.id", f"pay-{t0}")
    root.set_attribute("http.response.status_code", 502 if fail else 201)
    with trace.use_span(root, end_on_exit=False):
        platform.log.info("purchase started for payment pay-%s", t0, extra={"payment.id": f"pay-{t0}"})
        call = platform.tracer.start_span("fraud-check call", kind=SpanKind.CLIENT, start_time=t0 + 2 * MS)
    context = trace.set_span_in_context(call)
    check = processor.tracer.start_span("fraud-check", context=context, kind=SpanKind.SERVER, start_time=t0 + 3 * MS)
    check.add_event("fraud.scored", {"fraud.score": 0.93 if fail else 0.05}, timestamp=t0 + 4 * MS)
    with trace.use_span(check, end_on_exit=False):
        if fail:
            processor.log.error("payment declined: fraud score 0.93 over 0.9")
        else:
            processor.log.debug("fraud score 0.05 accepted")
    if fail:
        check.set_status(Status(StatusCode.ERROR, "fraud score over threshold"))
    check.end(end_time=t0 + (3 + fraud_ms) * MS)
    call.end(end_time=t0 + (4 + fraud_ms) * MS)
    with trace.use_span(root, end_on_exit=False):
        if fail:
            platform.log.warning("purchase failed: processor declined payment pay-%s", t0)
    if fail:
        root.set_status(Status(StatusCode.ERROR, "payment declined"))
    root.end(end_time=t0 + total_ms * MS)
    return f"{root.get_span_context().trace_id:032x}"


def payment_flow(*, fast: int = 5) -> Flow:
    """One slow failed purchase on fanz-1 (2.4 s, fraud check 1.9 s), ``fast`` quick ones,
    and one purchase on fanz-2; every record in the last minute."""
    p1, p2 = _Service("fanz-platform", "fanz-1"), _Service("fanz-platform", "fanz-2")
    processor = _Service("payment-processor", "fanz-1")
    now = time.time_ns() - 60 * 10**9
    flow = Flow(start_ns=now)
    flow.slow_trace = _purchase(p1, processor, t0=now, total_ms=2400, fraud_ms=1900, fail=True)
    for i in range(fast):
        flow.fast_traces.append(
            _purchase(p1, processor, t0=now + (i + 1) * 1000 * MS, total_ms=40 + i, fraud_ms=10, fail=False)
        )
    flow.other_platform_trace = _purchase(p2, processor, t0=now + 30_000 * MS, total_ms=3000, fraud_ms=20, fail=False)
    for service in (p1, p2, processor):
        spans, logs = service.rows()
        flow.spans += spans
        flow.logs += logs
        service.tracer_provider.shutdown()
        service.logger_provider.shutdown()
    return flow
