"""Decoding OTLP traces as the real OpenTelemetry SDK encodes them; hostile values bounded."""

from __future__ import annotations

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from fanzwatch.telemetry.otlp import MAX_VALUE, MalformedOtlpError, decode_traces, value_text


def test_spans_of_the_real_sdk_become_exporter_rows() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "fanz-platform", "fanz.platform": "fanz-1"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("payments", "1.2")
    with tracer.start_as_current_span("POST /payments", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.route", "/payments")
        root.set_attribute("http.response.status_code", 502)
        root.set_attribute("retry", True)
        root.add_event("fraud.checked", {"fraud.score": 0.93})
        with tracer.start_as_current_span("fraud-check", kind=SpanKind.CLIENT) as child:
            child.set_status(Status(StatusCode.ERROR, "declined"))
    spans = exporter.get_finished_spans()
    rows, rejected = decode_traces(encode_spans(spans).SerializeToString())
    assert rejected == 0
    by_name = {r["SpanName"]: r for r in rows}
    server, client = by_name["POST /payments"], by_name["fraud-check"]
    sdk_root = next(s for s in spans if s.name == "POST /payments")
    assert server["TraceId"] == f"{sdk_root.context.trace_id:032x}"
    assert server["SpanId"] == f"{sdk_root.context.span_id:016x}"
    assert client["ParentSpanId"] == server["SpanId"] and server["ParentSpanId"] == ""
    assert server["SpanKind"] == "Server" and client["SpanKind"] == "Client"
    assert client["StatusCode"] == "Error" and client["StatusMessage"] == "declined"
    assert server["ServiceName"] == "fanz-platform"
    assert server["ResourceAttributes"]["fanz.platform"] == "fanz-1"
    assert server["SpanAttributes"] == {"http.route": "/payments", "http.response.status_code": "502", "retry": "true"}
    assert server["Events.Name"] == ["fraud.checked"] and server["Events.Attributes"] == [{"fraud.score": "0.93"}]
    assert server["Duration"] == sdk_root.end_time - sdk_root.start_time
    assert server["Timestamp"] == f"{sdk_root.start_time // 10**9}.{sdk_root.start_time % 10**9:09d}"
    assert (server["ScopeName"], server["ScopeVersion"]) == ("payments", "1.2")


def _deep(levels: int) -> AnyValue:
    value = AnyValue(string_value="bottom")
    for _ in range(levels):
        value = AnyValue(kvlist_value=KeyValueList(values=[KeyValue(key="k", value=value)]))
    return value


def test_hostile_values_are_bounded_and_bad_ids_rejected() -> None:
    good = Span(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        name="x\x00y",
        attributes=[
            KeyValue(key="huge", value=AnyValue(string_value="a" * 1_000_000)),
            KeyValue(key="deep", value=_deep(20)),
        ],
    )
    bad = Span(trace_id=b"\x01" * 3, span_id=b"\x02" * 8, name="bad")
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[good, bad])])])
    rows, rejected = decode_traces(body.SerializeToString())
    assert rejected == 1 and len(rows) == 1
    row = rows[0]
    assert row["SpanName"] == "xy"
    assert len(row["SpanAttributes"]["huge"]) == MAX_VALUE
    assert row["SpanAttributes"]["deep"] == '{"k":{"k":{"k":{"k":"[too deep]"}}}}'
    assert value_text(AnyValue(bytes_value=b"\x00\x01")) == "AAE="


def test_a_body_that_is_not_otlp_is_malformed() -> None:
    with pytest.raises(MalformedOtlpError, match="not an OTLP traces request"):
        decode_traces(b"\xff\xff\xff\xff not protobuf")
