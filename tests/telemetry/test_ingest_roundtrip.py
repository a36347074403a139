"""The receiver's ingest path end to end in one process: OTLP protobuf → ``decode_traces`` →
``encode_rows`` (the batch the receiver hands the store) → ``insert_lines`` → read back,
every column of a span with attributes of each kind, events and links, exactly."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from fanzwatch.core.scrubbing import scrub_text
from fanzwatch.telemetry import TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.client import encode_rows
from fanzwatch.telemetry.otlp import decode_traces

TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
LINKED = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
CARD = "charge failed for card 4111 1111 1111 1111"


def _kv(key: str, **value: object) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))  # type: ignore[arg-type]


def _request(now: int) -> bytes:
    root = Span(
        trace_id=TRACE,
        span_id=bytes.fromhex("00f067aa0ba902b7"),
        trace_state="fanz=1",
        name="POST /payments",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=now,
        end_time_unix_nano=now + 250_000_123,
        attributes=[
            _kv("http.route", string_value="/payments"),
            _kv("http.response.status_code", int_value=502),
            _kv("retry", bool_value=True),
            _kv("fraud.score", double_value=0.93),
            _kv("tags", array_value=ArrayValue(values=[AnyValue(string_value="a"), AnyValue(int_value=2)])),
            _kv("card", kvlist_value=KeyValueList(values=[_kv("brand", string_value="visa")])),
            _kv("raw", bytes_value=b"\x00\x01"),
            _kv("nul\x00key", string_value="nul\x00value"),
            _kv("exception.message", string_value=CARD),
        ],
        events=[
            Span.Event(
                time_unix_nano=now + 1_000, name="fraud.checked",
                attributes=[_kv("fraud.score", double_value=0.93)],
            ),
            Span.Event(
                time_unix_nano=now + 2_000, name="exception",
                attributes=[_kv("exception.message", string_value=CARD)],
            ),
        ],
        links=[
            Span.Link(
                trace_id=LINKED,
                span_id=bytes.fromhex("b7ad6b7169203331"),
                trace_state="k=v",
                attributes=[_kv("link.kind", string_value="follows")],
            )
        ],
        status=Status(code=Status.STATUS_CODE_ERROR, message=CARD),
    )  # fmt: skip
    child = Span(
        trace_id=TRACE,
        span_id=bytes.fromhex("53995c3f42cd8ad8"),
        parent_span_id=root.span_id,
        name="fraud-check",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=now + 3_000,
        end_time_unix_nano=now + 3_000,
    )
    resource = Resource(
        attributes=[_kv("service.name", string_value="fanz-platform"), _kv("fanz.platform", string_value="fanz-1")]
    )
    scope = InstrumentationScope(name="payments", version="1.2")
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(scope=scope, spans=[root, child])])]
    )  # fmt: skip
    return request.SerializeToString()


def _text(nanos: int) -> str:
    """A ``DateTime64(9)`` as the store answers in JSON (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(nanos // 10**9)) + f".{nanos % 10**9:09d}"


def test_encode_rows_writes_one_json_object_per_line() -> None:
    rows = [{"a": "x\ny", "b": [1, {"c": "\u00e9"}]}, {"a": ""}, {}]
    assert encode_rows(rows) == b"\n".join(orjson.dumps(r) for r in rows)
    assert encode_rows([]) == b""


def test_a_trace_is_stored_and_read_back_exactly_through_the_ingest_path(tmp_path: Path) -> None:
    now = time.time_ns() - 60 * 10**9
    rows, rejected = decode_traces(_request(now), scrub=scrub_text)
    assert rejected == 0
    scrubbed = scrub_text(CARD)
    assert "4111" not in scrubbed
    store = ChdbTelemetryStore(tmp_path / "telemetry", ttl_days=7)
    try:
        assert store.insert_lines(TRACES_TABLE, encode_rows(rows)) == 2
        root, child = store.trace(TRACE.hex())
    finally:
        store.close()
    assert int(root["StartNanos"]) == now and root["Duration"] == 250_000_123
    assert {k: v for k, v in root.items() if k not in ("Timestamp", "StartNanos")} == {
        "TraceId": TRACE.hex(),
        "SpanId": "00f067aa0ba902b7",
        "ParentSpanId": "",
        "TraceState": "fanz=1",
        "SpanName": "POST /payments",
        "SpanKind": "Server",
        "ServiceName": "fanz-platform",
        "ResourceAttributes": {"service.name": "fanz-platform", "fanz.platform": "fanz-1"},
        "ScopeName": "payments",
        "ScopeVersion": "1.2",
        "SpanAttributes": {
            "http.route": "/payments",
            "http.response.status_code": "502",
            "retry": "true",
            "fraud.score": "0.93",
            "tags": '["a",2]',
            "card": '{"brand":"visa"}',
            "raw": base64.b64encode(b"\x00\x01").decode(),
            "nulkey": "nulvalue",
            "exception.message": scrubbed,
        },
        "Duration": 250_000_123,
        "StatusCode": "Error",
        "StatusMessage": scrubbed,
        "Events.Timestamp": [_text(now + 1_000), _text(now + 2_000)],
        "Events.Name": ["fraud.checked", "exception"],
        "Events.Attributes": [{"fraud.score": "0.93"}, {"exception.message": scrubbed}],
        "Links.TraceId": [LINKED.hex()],
        "Links.SpanId": ["b7ad6b7169203331"],
        "Links.TraceState": ["k=v"],
        "Links.Attributes": [{"link.kind": "follows"}],
    }
    assert root["Timestamp"] == _text(now)
    assert child["ParentSpanId"] == "00f067aa0ba902b7" and child["Duration"] == 0
    assert (child["SpanKind"], child["StatusCode"], child["StatusMessage"]) == ("Client", "Unset", "")
    assert [child[c] for c in ("Events.Timestamp", "Events.Name", "Events.Attributes")] == [[], [], []]
    assert [child[c] for c in ("Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes")] == [[]] * 4
    assert int(child["StartNanos"]) == now + 3_000
