"""Decoding OTLP traces and logs (protobuf and OTLP/JSON) as the real OpenTelemetry SDK encodes them;
hostile values bounded."""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import orjson
import pytest
from google.protobuf import json_format  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.proto.trace.v1.trace_pb2 import Status as SpanStatus
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from fanzwatch.core.scrubbing import scrub_text
from fanzwatch.telemetry.otlp import (
    MAX_VALUE,
    MalformedOtlpError,
    TimeWindow,
    decode_logs,
    decode_traces,
    value_text,
)

ANY_TIME = TimeWindow(0, 2**63 - 1)  # for tests whose subject is not the time


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
    rows, rejected = decode_traces(body.SerializeToString(), window=ANY_TIME)
    assert rejected == 1 and len(rows) == 1
    row = rows[0]
    assert row["SpanName"] == "xy"
    assert len(row["SpanAttributes"]["huge"]) == MAX_VALUE
    assert row["SpanAttributes"]["deep"] == '{"k":{"k":{"k":{"k":"[too deep]"}}}}'
    assert value_text(AnyValue(bytes_value=b"\x00\x01")) == "AAE="


def test_a_body_that_is_not_otlp_is_malformed() -> None:
    with pytest.raises(MalformedOtlpError, match="not an OTLP traces request"):
        decode_traces(b"\xff\xff\xff\xff not protobuf")


# -- logs --------------------------------------------------------------------------------------


def _sdk_logs() -> tuple[list[Any], Any]:
    """Log records of the real SDK, one inside a span and one outside, and the span."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "fanz-platform", "fanz.platform": "fanz-2"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("tests.telemetry.otlp")
    logger.propagate = False
    handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    tracer = TracerProvider().get_tracer("t")
    try:
        with tracer.start_as_current_span("checkout") as span:
            logger.warning("card 4111 1111 1111 1111 declined", extra={"payment.id": "p-7"})
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
        provider.shutdown()
    return list(exporter.get_finished_logs()), span


def test_log_records_of_the_real_sdk_become_exporter_rows_with_scrubbed_bodies() -> None:
    records, span = _sdk_logs()
    body = encode_logs(records).SerializeToString()
    rows, rejected = decode_logs(body, scrub=scrub_text)
    assert rejected == 0
    inside, outside = rows
    assert inside["TraceId"] == f"{span.context.trace_id:032x}" and inside["SpanId"] == f"{span.context.span_id:016x}"
    flags = int(records[0].log_record.trace_flags)  # sampled, and W3C level 2's random bit
    assert (inside["TraceFlags"], inside["SeverityText"], inside["SeverityNumber"]) == (flags, "WARN", 13)
    assert inside["Body"] == "card [card] declined"
    assert inside["LogAttributes"]["payment.id"] == "p-7"
    assert inside["ServiceName"] == "fanz-platform" and inside["ResourceAttributes"]["fanz.platform"] == "fanz-2"
    assert inside["ScopeName"] == "tests.telemetry.otlp"
    record = records[0].log_record
    assert inside["Timestamp"] == f"{record.timestamp // 10**9}.{record.timestamp % 10**9:09d}"
    assert (outside["TraceId"], outside["SpanId"], outside["Body"]) == ("", "", "outside")
    assert decode_logs(body)[0][0]["Body"] == "card 4111 1111 1111 1111 declined"  # scrubbing is the caller's


def test_a_log_record_with_a_bad_id_is_rejected_and_observed_time_stands_in() -> None:
    good = LogRecord(observed_time_unix_nano=1_764_756_000_000_000_123, body=AnyValue(string_value="ok\x00!"))
    bad = LogRecord(trace_id=b"\x01" * 5, body=AnyValue(string_value="bad"))
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[good, bad])])])
    rows, rejected = decode_logs(request.SerializeToString(), window=ANY_TIME)
    assert rejected == 1
    assert [(r["Timestamp"], r["Body"], r["TraceId"]) for r in rows] == [("1764756000.000000123", "ok!", "")]
    with pytest.raises(MalformedOtlpError, match="not an OTLP logs request"):
        decode_logs(b"\xff\xff\xff\xff not protobuf")


# -- OTLP/JSON ---------------------------------------------------------------------------------


def _otlp_json(message: Any) -> bytes:
    """The OTLP/JSON encoding of a request, per the specification: protobuf's canonical JSON
    (lowerCamelCase, int64 as strings) with enums as integers and ids in hex, not base64."""
    data = json_format.MessageToDict(message, use_integers_for_enums=True)

    def hexify(item: Any) -> Any:
        if isinstance(item, dict):
            return {
                k: base64.b64decode(v).hex() if k in {"traceId", "spanId", "parentSpanId"} else hexify(v)
                for k, v in item.items()
            }
        if isinstance(item, list):
            return [hexify(v) for v in item]
        return item

    return orjson.dumps(hexify(data))


def test_otlp_json_decodes_to_the_same_rows_as_protobuf() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "fanz-platform"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("payments", "1.2")
    with tracer.start_as_current_span("POST /payments", kind=SpanKind.SERVER) as root:
        root.set_attribute("amount.cents", 1999)
        root.set_attribute("tags", ["a", "b"])
        root.add_event("fraud.checked", {"fraud.score": 0.93})
        with tracer.start_as_current_span("fraud-check", kind=SpanKind.CLIENT) as child:
            child.set_status(Status(StatusCode.ERROR, "declined"))
    request = encode_spans(exporter.get_finished_spans())
    body = _otlp_json(request)
    assert b'"traceId":"' + f"{root.get_span_context().trace_id:032x}".encode() + b'"' in body  # hex on the wire
    assert decode_traces(body, json=True) == decode_traces(request.SerializeToString())
    records, _ = _sdk_logs()
    logs = encode_logs(records)
    assert decode_logs(_otlp_json(logs), json=True) == decode_logs(logs.SerializeToString())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "a JSON object"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": 5}]}]}]}', "not an OTLP traces request"),
        (b'{"resourceSpans": "nope"}', "not an OTLP traces request"),
    ],
)
def test_a_json_body_that_is_not_otlp_is_malformed(body: bytes, message: str) -> None:
    with pytest.raises(MalformedOtlpError, match=message):
        decode_traces(body, json=True)


def test_json_ids_that_are_not_hex_reject_the_span_not_the_request() -> None:
    body = orjson.dumps(
        {
            "resourceSpans": [
                {
                    "scopeSpans": [
                        {
                            "spans": [
                                {"traceId": "zz" * 16, "spanId": "00f067aa0ba902b7", "name": "bad"},
                                {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7",
                                 "name": "good", "kind": "SPAN_KIND_SERVER", "unknown": 1},
                            ]
                        }
                    ]
                }
            ]
        }
    )  # fmt: skip
    rows, rejected = decode_traces(body, json=True, window=ANY_TIME)
    assert rejected == 1 and [(r["SpanName"], r["SpanKind"]) for r in rows] == [("good", "Server")]


def test_a_time_the_store_cannot_take_rejects_that_span_or_record_only() -> None:
    """A bad clock (or a hostile sender) must not fail the good rows batched with it."""
    now = 1_800_000_000 * 10**9
    window = TimeWindow.around(now)

    def span(sid: int, start: int, end: int, event_at: int | None = None) -> Span:
        events = [Span.Event(time_unix_nano=event_at, name="e")] if event_at is not None else []
        return Span(
            trace_id=b"\x01" * 16, span_id=bytes([sid]) * 8, name=f"s{sid}",
            start_time_unix_nano=start, end_time_unix_nano=end, events=events,
        )  # fmt: skip

    spans = [
        span(1, now, now + 5),
        span(2, 2**64 - 1, 2**64 - 1),  # past DateTime64(9)'s end (2262)
        span(3, now, 2**64 - 1),  # a duration no column holds
        span(4, now - 40 * 86_400 * 10**9, now),  # older than any retention: another partition per day
        span(5, now, now + 5, event_at=2**63),
    ]
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    rows, rejected = decode_traces(body.SerializeToString(), window=window)
    assert (rejected, [r["SpanName"] for r in rows]) == (4, ["s1"])
    logs = [
        LogRecord(time_unix_nano=now, body=AnyValue(string_value="kept")),
        LogRecord(time_unix_nano=now + 2 * 86_400 * 10**9, body=AnyValue(string_value="from tomorrow+1")),
    ]
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=logs)])])
    rows, rejected = decode_logs(request.SerializeToString(), window=window)
    assert (rejected, [r["Body"] for r in rows]) == (1, ["kept"])


def test_error_text_in_attributes_is_scrubbed_like_bodies() -> None:
    now = time.time_ns()
    secret = "charge failed for 4111 1111 1111 1111 password=hunter2"
    error = [KeyValue(key="exception.message", value=AnyValue(string_value=secret))]
    record = LogRecord(time_unix_nano=now, body=AnyValue(string_value=secret), attributes=error)
    request = ExportLogsServiceRequest(resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])])
    [row], _ = decode_logs(request.SerializeToString(), scrub=scrub_text)
    assert row["Body"] == row["LogAttributes"]["exception.message"]
    assert "4111" not in row["Body"] and "hunter2" not in row["Body"]
    span = Span(
        trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name="charge", start_time_unix_nano=now,
        end_time_unix_nano=now + 1, status=SpanStatus(code=2, message=secret),
        events=[Span.Event(time_unix_nano=now, name="exception", attributes=error)],
    )  # fmt: skip
    body = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])
    [row], _ = decode_traces(body.SerializeToString(), scrub=scrub_text)
    assert "4111" not in row["StatusMessage"] and "hunter2" not in row["StatusMessage"]
    assert "4111" not in row["Events.Attributes"][0]["exception.message"]
