"""The OTLP/JSON mapping onto the protobuf messages.

OTLP/JSON is protobuf's canonical JSON with differences (OTLP specification, "JSON
Protobuf Encoding"), and ``google.protobuf.json_format`` handles all but one of them:

- ``traceId``, ``spanId`` and ``parentSpanId`` are **hex** strings, not base64: they are
  rewritten here before parsing (anything that is not hex becomes an id of the wrong
  length, so that span or record is rejected, not the request);
- keys are lowerCamelCase (``json_format`` also accepts the proto names), 64-bit integers
  decimal strings or numbers, enums integers (names accepted too);
- unknown fields are ignored, as the specification requires of receivers.

>>> parse_json_request(b'{"resourceSpans": []}', ExportTraceServiceRequest())  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import Message  # type: ignore[import-untyped]

_BAD_ID = base64.b64encode(b"\x00").decode()  # one byte: the wrong length for any id
_ID_KEYS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


class OtlpJsonError(ValueError):
    """The body is not OTLP/JSON."""


def _hex_to_base64(value: object) -> object:
    if not isinstance(value, str) or value == "":
        return value
    try:
        return base64.b64encode(binascii.unhexlify(value)).decode()
    except (binascii.Error, ValueError):
        return _BAD_ID


def _fix_ids(item: object) -> None:
    if not isinstance(item, dict):
        return
    for key in _ID_KEYS:
        if key in item:
            item[key] = _hex_to_base64(item[key])
    for key in ("links",):
        for link in item.get(key) or ():
            _fix_ids(link)


def _each(container: object, *keys: str) -> list[Any]:
    if not isinstance(container, dict):
        return []
    for key in keys:
        value = container.get(key)
        if isinstance(value, list):
            return value
    return []


def parse_json_request(body: bytes, message: Message) -> None:
    """Fill ``message`` (an ``Export*ServiceRequest``) from an OTLP/JSON body."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpJsonError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OtlpJsonError("an OTLP/JSON request is a JSON object")
    for resource in _each(data, "resourceSpans", "resource_spans"):
        for scope in _each(resource, "scopeSpans", "scope_spans"):
            for span in _each(scope, "spans"):
                _fix_ids(span)
    for resource in _each(data, "resourceLogs", "resource_logs"):
        for scope in _each(resource, "scopeLogs", "scope_logs"):
            for record in _each(scope, "logRecords", "log_records"):
                _fix_ids(record)
    try:
        json_format.ParseDict(data, message, ignore_unknown_fields=True)
    except (json_format.ParseError, TypeError, ValueError, RecursionError) as exc:
        raise OtlpJsonError(str(exc)) from None
