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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

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
_NO_ITEMS: tuple[()] = ()


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


def _scrub_free_text(values: dict[str, str], scrub: Callable[[str], str] | None) -> dict[str, str]:
    if scrub is None or FREE_TEXT_ATTRIBUTES.isdisjoint(values):
        return values
    return {k: scrub(v) if k in FREE_TEXT_ATTRIBUTES else v for k, v in values.items()}


def _scrubbed(text: str, scrub: Callable[[str], str] | None) -> str:
    return scrub(text) if scrub is not None and text else text


def _clean(text: str, max_value: int) -> str:
    return text.replace("\x00", "")[:max_value]


def _time_text(nanos: int) -> str:
    """``unix_nano_text``, by string slicing for the times of this century (the hot path)."""
    if nanos < 10**18:
        return unix_nano_text(nanos)
    digits = str(nanos)
    return f"{digits[:-9]}.{digits[-9:]}"


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
        return value.string_value.replace("\x00", "")[:max_value]
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
        value = kv.value
        # Strings are most attributes: inlined (this runs for every attribute of every span).
        if value.WhichOneof("value") == "string_value":
            out[kv.key.replace("\x00", "")[:256]] = value.string_value.replace("\x00", "")[:max_value]
        else:
            out[kv.key.replace("\x00", "")[:256]] = value_text(value, max_value=max_value)
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
    """``(rows, rejected spans)`` of an ``ExportTraceServiceRequest`` (protobuf, or OTLP/JSON).

    This runs once per span received, so it is written for speed (issue 18, see
    ``bench/bench_telemetry.py``): each protobuf field is read once, the common case (no
    events, no links, string attributes, nothing to scrub) takes no detour, and spans
    share their resource's map.
    """
    request = ExportTraceServiceRequest()
    _parse(request, body, json=json, what="traces")
    window = window or TimeWindow.around()
    oldest, newest = window.oldest, window.newest
    rows: list[dict[str, Any]] = []
    append = rows.append
    rejected = 0
    n_kinds, n_codes = len(SPAN_KINDS), len(STATUS_CODES)
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes, max_value=max_value)
        service = resource.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_name = _clean(scope.name, 256)
            scope_version = _clean(scope.version, 256)
            for span in scope_spans.spans:
                trace_id, span_id = span.trace_id, span.span_id
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                if (
                    len(trace_id) != 16
                    or len(span_id) != 8
                    or not (oldest <= start <= newest and oldest <= end <= newest)
                ):
                    rejected += 1
                    continue
                # Most spans have neither events nor links: their six columns share one empty
                # tuple (serialised as []), so they allocate nothing the garbage collector must scan.
                event_times: Sequence[str] = _NO_ITEMS
                event_names: Sequence[str] = _NO_ITEMS
                event_attributes: Sequence[dict[str, str]] = _NO_ITEMS
                if span.events:
                    events = span.events[:MAX_ATTRIBUTES]
                    if not all(oldest <= e.time_unix_nano <= newest for e in events):
                        rejected += 1
                        continue
                    event_times = [_time_text(e.time_unix_nano) for e in events]
                    event_names = [_clean(e.name, 1024) for e in events]
                    event_attributes = [
                        _scrub_free_text(attributes(e.attributes, max_value=max_value), scrub) for e in events
                    ]
                link_trace_ids: Sequence[str] = _NO_ITEMS
                link_span_ids: Sequence[str] = _NO_ITEMS
                link_states: Sequence[str] = _NO_ITEMS
                link_attributes: Sequence[dict[str, str]] = _NO_ITEMS
                if span.links:
                    links = span.links[:MAX_ATTRIBUTES]
                    link_trace_ids = [link.trace_id.hex() for link in links]
                    link_span_ids = [link.span_id.hex() for link in links]
                    link_states = [_clean(link.trace_state, 512) for link in links]
                    link_attributes = [attributes(link.attributes, max_value=max_value) for link in links]
                parent = span.parent_span_id
                kind = span.kind
                status = span.status
                code = status.code
                append(
                    {
                        "Timestamp": _time_text(start),
                        "TraceId": trace_id.hex(),
                        "SpanId": span_id.hex(),
                        "ParentSpanId": parent.hex() if len(parent) == 8 else "",
                        "TraceState": _clean(span.trace_state, 512),
                        "SpanName": _clean(span.name, 1024),
                        "SpanKind": SPAN_KINDS[kind] if 0 <= kind < n_kinds else "Unspecified",
                        "ServiceName": service,
                        "ResourceAttributes": resource,
                        "ScopeName": scope_name,
                        "ScopeVersion": scope_version,
                        "SpanAttributes": _scrub_free_text(attributes(span.attributes, max_value=max_value), scrub),
                        "Duration": end - start if end > start else 0,
                        "StatusCode": STATUS_CODES[code] if 0 <= code < n_codes else "Unset",
                        "StatusMessage": _scrubbed(_clean(status.message, max_value), scrub),
                        "Events.Timestamp": event_times,
                        "Events.Name": event_names,
                        "Events.Attributes": event_attributes,
                        "Links.TraceId": link_trace_ids,
                        "Links.SpanId": link_span_ids,
                        "Links.TraceState": link_states,
                        "Links.Attributes": link_attributes,
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
                        "Body": _scrubbed(text, scrub),
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
