"""OTLP (protobuf or JSON) → ``otel_traces`` / ``otel_logs`` rows, with hostile values bounded.

The receiver's decoding step, kept pure so it is tested on its own: attribute values
become strings as the Collector's exporter stores them (arrays and maps as JSON), each cut
to ``max_value`` characters with NUL removed, nesting cut at ``max_depth``; a span (or log
record) whose trace or span id has the wrong length, or any of whose times falls outside
``TimeWindow`` (more than a day ahead or 30 days behind the receiver's clock: the store
could not take it, or would drop it at once), is rejected (counted for the
partial-success answer), the rest of the request is kept. Log bodies and the free-text
attributes that carry error messages (``exception.message``, ``exception.stacktrace``,
span status messages and ``exception`` event attributes) pass through ``scrub`` (the
server gives it the RUM scrubbing rules) before they are stored.

JSON is the OTLP/JSON mapping (``otlp_json``): camelCase or snake_case keys, trace and
span ids in hex, 64-bit integers as strings or numbers, enums as integers.

>>> rows, rejected = decode_traces(ExportTraceServiceRequest(...).SerializeToString())  # doctest: +SKIP
>>> rows, rejected = decode_logs(body, json=True, scrub=scrub_text)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from .otlp_json import OtlpJsonError, parse_json_request
from .store import unix_nano_text

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")
MAX_VALUE = 4096
MAX_DEPTH = 4
MAX_ATTRIBUTES = 128


FREE_TEXT_ATTRIBUTES = frozenset({"exception.message", "exception.stacktrace"})
"""Attributes where error text (a failed call's arguments, a card number) ends up: scrubbed like bodies."""
_DAY_NANOS = 86_400 * 10**9


class MalformedOtlpError(ValueError):
    """The body is not an OTLP export request (answered 400)."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The times a row may carry: a far-future time cannot be stored (``DateTime64(9)`` ends
    in 2262) and a batch spread over many days is refused by the store (one partition per
    day), so one bad clock would fail every good row batched with it."""

    oldest: int
    newest: int

    @classmethod
    def around(cls, now_nanos: int | None = None, *, behind_days: int = 30, ahead_days: int = 1) -> TimeWindow:
        now = time.time_ns() if now_nanos is None else now_nanos
        return cls(now - behind_days * _DAY_NANOS, now + ahead_days * _DAY_NANOS)

    def holds(self, times: Iterable[int]) -> bool:
        return all(self.oldest <= t <= self.newest for t in times)


def _same(text: str) -> str:
    return text


def _scrub_free_text(values: dict[str, str], scrub: Callable[[str], str] | None) -> dict[str, str]:
    if scrub is None:
        return values
    return {k: scrub(v) if k in FREE_TEXT_ATTRIBUTES else v for k, v in values.items()}


def _clean(text: str, max_value: int) -> str:
    return text.replace("\x00", "")[:max_value]


def _plain(value: AnyValue, depth: int) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value[:MAX_VALUE]).decode()
    if depth >= MAX_DEPTH:
        return "[too deep]"
    if kind == "array_value":
        return [_plain(v, depth + 1) for v in value.array_value.values[:MAX_ATTRIBUTES]]
    if kind == "kvlist_value":
        return {kv.key[:256]: _plain(kv.value, depth + 1) for kv in value.kvlist_value.values[:MAX_ATTRIBUTES]}
    return getattr(value, kind)


def value_text(value: AnyValue, *, max_value: int = MAX_VALUE) -> str:
    """One attribute value as stored: strings as they are, numbers and booleans as text
    (``true``/``false``), arrays and maps as JSON; bounded."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return _clean(value.string_value, max_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind in ("int_value", "double_value"):
        return str(getattr(value, kind))
    plain = _plain(value, 0)
    if plain is None:
        return ""
    if isinstance(plain, str):
        return _clean(plain, max_value)
    return _clean(orjson.dumps(plain).decode(), max_value)


def attributes(items: Any, *, max_value: int = MAX_VALUE) -> dict[str, str]:
    """A ``KeyValue`` list as a bounded string map (the first ``MAX_ATTRIBUTES`` keys)."""
    out: dict[str, str] = {}
    for kv in items:
        if len(out) >= MAX_ATTRIBUTES:
            break
        assert isinstance(kv, KeyValue)
        out[_clean(kv.key, 256)] = value_text(kv.value, max_value=max_value)
    return out


def _parse(request: Any, body: bytes, *, json: bool, what: str) -> None:
    try:
        if json:
            parse_json_request(body, request)
        else:
            request.ParseFromString(body)
    except (DecodeError, OtlpJsonError) as exc:
        raise MalformedOtlpError(f"not an OTLP {what} request: {str(exc)[:300]}") from None


def decode_traces(
    body: bytes,
    *,
    json: bool = False,
    scrub: Callable[[str], str] | None = None,
    max_value: int = MAX_VALUE,
    window: TimeWindow | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """``(rows, rejected spans)`` of an ``ExportTraceServiceRequest`` (protobuf, or OTLP/JSON)."""
    request = ExportTraceServiceRequest()
    _parse(request, body, json=json, what="traces")
    window = window or TimeWindow.around()
    rows: list[dict[str, Any]] = []
    rejected = 0
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes, max_value=max_value)
        service = resource.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope_name = _clean(scope_spans.scope.name, 256)
            scope_version = _clean(scope_spans.scope.version, 256)
            for span in scope_spans.spans:
                events = span.events[:MAX_ATTRIBUTES]
                times = (span.start_time_unix_nano, span.end_time_unix_nano, *(e.time_unix_nano for e in events))
                if len(span.trace_id) != 16 or len(span.span_id) != 8 or not window.holds(times):
                    rejected += 1
                    continue
                links = span.links[:MAX_ATTRIBUTES]
                rows.append(
                    {
                        "Timestamp": unix_nano_text(span.start_time_unix_nano),
                        "TraceId": span.trace_id.hex(),
                        "SpanId": span.span_id.hex(),
                        "ParentSpanId": span.parent_span_id.hex() if len(span.parent_span_id) == 8 else "",
                        "TraceState": _clean(span.trace_state, 512),
                        "SpanName": _clean(span.name, 1024),
                        "SpanKind": SPAN_KINDS[span.kind] if 0 <= span.kind < len(SPAN_KINDS) else "Unspecified",
                        "ServiceName": service,
                        "ResourceAttributes": resource,
                        "ScopeName": scope_name,
                        "ScopeVersion": scope_version,
                        "SpanAttributes": _scrub_free_text(attributes(span.attributes, max_value=max_value), scrub),
                        "Duration": max(0, span.end_time_unix_nano - span.start_time_unix_nano),
                        "StatusCode": STATUS_CODES[span.status.code] if 0 <= span.status.code < 3 else "Unset",
                        "StatusMessage": (scrub or _same)(_clean(span.status.message, max_value)),
                        "Events.Timestamp": [unix_nano_text(e.time_unix_nano) for e in events],
                        "Events.Name": [_clean(e.name, 1024) for e in events],
                        "Events.Attributes": [
                            _scrub_free_text(attributes(e.attributes, max_value=max_value), scrub) for e in events
                        ],
                        "Links.TraceId": [link.trace_id.hex() for link in links],
                        "Links.SpanId": [link.span_id.hex() for link in links],
                        "Links.TraceState": [_clean(link.trace_state, 512) for link in links],
                        "Links.Attributes": [attributes(link.attributes, max_value=max_value) for link in links],
                    }
                )
    return rows, rejected


def decode_logs(
    body: bytes,
    *,
    json: bool = False,
    scrub: Callable[[str], str] | None = None,
    max_value: int = MAX_VALUE,
    window: TimeWindow | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """``(rows, rejected log records)`` of an ``ExportLogsServiceRequest`` (protobuf, or OTLP/JSON).

    A record's time is its ``time_unix_nano``, or the observed time when that is unset (as
    the Collector's exporter does); trace and span ids are optional, but a record whose id
    is present with the wrong length is rejected. ``scrub`` rewrites each body.
    """
    request = ExportLogsServiceRequest()
    _parse(request, body, json=json, what="logs")
    window = window or TimeWindow.around()
    rows: list[dict[str, Any]] = []
    rejected = 0
    for resource_logs in request.resource_logs:
        resource = attributes(resource_logs.resource.attributes, max_value=max_value)
        service = resource.get("service.name", "")
        resource_schema = _clean(resource_logs.schema_url, 512)
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_name, scope_version = _clean(scope.name, 256), _clean(scope.version, 256)
            scope_attributes = attributes(scope.attributes, max_value=max_value)
            scope_schema = _clean(scope_logs.schema_url, 512)
            for record in scope_logs.log_records:
                at = record.time_unix_nano or record.observed_time_unix_nano
                if len(record.trace_id) not in (0, 16) or len(record.span_id) not in (0, 8) or not window.holds((at,)):
                    rejected += 1
                    continue
                text = value_text(record.body, max_value=max_value)
                rows.append(
                    {
                        "Timestamp": unix_nano_text(at),
                        "TraceId": record.trace_id.hex(),
                        "SpanId": record.span_id.hex(),
                        "TraceFlags": record.flags & 0xFF,
                        "SeverityText": _clean(record.severity_text, 64),
                        "SeverityNumber": record.severity_number if 0 <= record.severity_number <= 24 else 0,
                        "ServiceName": service,
                        "Body": scrub(text) if scrub is not None else text,
                        "ResourceSchemaUrl": resource_schema,
                        "ResourceAttributes": resource,
                        "ScopeSchemaUrl": scope_schema,
                        "ScopeName": scope_name,
                        "ScopeVersion": scope_version,
                        "ScopeAttributes": scope_attributes,
                        "LogAttributes": _scrub_free_text(attributes(record.attributes, max_value=max_value), scrub),
                        "EventName": _clean(getattr(record, "event_name", ""), 256),
                    }
                )
    return rows, rejected
