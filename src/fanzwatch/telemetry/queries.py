"""The named queries the store process answers: the only SQL a caller can run.

Callers (the server's read API, FanzDash) name a query and pass parameters; the store
process checks each parameter against its declared type and hands it to ClickHouse as a
bound ``{name:Type}`` parameter, never as SQL text. The same SQL runs on chDB and on a
ClickHouse cluster the OpenTelemetry Collector writes (the exporter's tables).

An empty string or ``0`` means "any" for the optional filters; times are Unix
nanoseconds (``start_ns``/``end_ns``, ``0`` = unbounded), durations nanoseconds.

>>> QUERIES["trace"].bind({"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
{'trace_id': '4bf92f3577b34da6a3ce929d0e0e4736'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .schema import LOGS_TABLE, TRACE_ID_TS_TABLE, TRACES_TABLE

MAX_LIMIT = 1000
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


class QueryParameterError(ValueError):
    """A named query's parameter is missing, unknown or of the wrong type (answered 400)."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its ClickHouse type (``String``, ``UInt64``, ``Int64``), default, bounds."""

    type: str
    default: str | int | None = None  # None: required
    max_length: int = 4096
    maximum: int | None = None
    pattern: re.Pattern[str] | None = None

    def check(self, name: str, value: object) -> str | int:
        if self.type == "String":
            if not isinstance(value, str):
                raise QueryParameterError(f"{name}: a string is needed, got {type(value).__name__}")
            if len(value) > self.max_length:
                raise QueryParameterError(f"{name}: at most {self.max_length} characters")
            if "\x00" in value:
                raise QueryParameterError(f"{name}: NUL characters are not allowed")
            if self.pattern is not None and value and not self.pattern.match(value):
                raise QueryParameterError(f"{name}: {value[:64]!r} does not match {self.pattern.pattern}")
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise QueryParameterError(f"{name}: an integer is needed, got {type(value).__name__}")
        if value < 0 or (self.type == "Int64" and value >= 1 << 63) or value >= 1 << 64:
            raise QueryParameterError(f"{name}: {value} is out of range")
        if self.maximum is not None and value > self.maximum:
            raise QueryParameterError(f"{name}: at most {self.maximum}")
        return value


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """SQL with ``{name:Type}`` placeholders and the parameters it takes."""

    sql: str
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""

    def bind(self, given: Mapping[str, object]) -> dict[str, str | int]:
        """The checked parameters, defaults filled in; ``QueryParameterError`` otherwise."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            raise QueryParameterError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(self.params)}")
        bound: dict[str, str | int] = {}
        for name, param in self.params.items():
            if name in given:
                bound[name] = param.check(name, given[name])
            elif param.default is None:
                raise QueryParameterError(f"{name} is required")
            else:
                bound[name] = param.default
        return bound


_ID = Param("String", pattern=_TRACE_ID)
_ANY = Param("String", default="", max_length=512)
_LIMIT = Param("UInt64", default=100, maximum=MAX_LIMIT)
_TIME = Param("Int64", default=0)
_TIME_WINDOW = """(({start_ns:Int64} = 0 OR Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64}))
      AND ({end_ns:Int64} = 0 OR Timestamp <= fromUnixTimestamp64Nano({end_ns:Int64})))"""

QUERIES: dict[str, NamedQuery] = {
    "trace": NamedQuery(
        f"""WITH (SELECT (min(Start), max(End)) FROM {TRACE_ID_TS_TABLE} WHERE TraceId = {{trace_id:String}}) AS w
        SELECT *, toUnixTimestamp64Nano(Timestamp) AS StartNanos FROM {TRACES_TABLE}
        WHERE TraceId = {{trace_id:String}} AND Timestamp >= w.1 AND Timestamp <= w.2 + 1
        ORDER BY Timestamp""",
        {"trace_id": _ID},
        "every span of one trace, oldest first (the id lookup table narrows the time range)",
    ),
    "logs_of_trace": NamedQuery(
        f"""SELECT *, toUnixTimestamp64Nano(Timestamp) AS TimeNanos FROM {LOGS_TABLE}
        WHERE TraceId = {{trace_id:String}} AND ({{span_id:String}} = '' OR SpanId = {{span_id:String}})
        ORDER BY Timestamp LIMIT {{limit:UInt64}}""",
        {"trace_id": _ID, "span_id": _ANY, "limit": Param("UInt64", default=MAX_LIMIT, maximum=MAX_LIMIT)},
        "the log records of one trace (or one span of it), oldest first",
    ),
    "search_spans": NamedQuery(
        f"""SELECT Timestamp, toUnixTimestamp64Nano(Timestamp) AS StartNanos, TraceId, SpanId, ParentSpanId,
            SpanName, SpanKind, ServiceName, Platform, HttpRoute, Duration, StatusCode, StatusMessage
        FROM {TRACES_TABLE}
        WHERE {_TIME_WINDOW}
          AND ({{service:String}} = '' OR ServiceName = {{service:String}})
          AND ({{route:String}} = '' OR HttpRoute = {{route:String}})
          AND ({{platform:String}} = '' OR Platform = {{platform:String}})
          AND ({{status:String}} = '' OR StatusCode = {{status:String}})
          AND ({{name:String}} = '' OR SpanName = {{name:String}})
          AND Duration >= {{min_duration_ns:UInt64}}
          AND ({{root_only:UInt64}} = 0 OR ParentSpanId = '')
          AND ({{attribute:String}} = '' OR SpanAttributes[{{attribute:String}}] = {{value:String}}
               OR ResourceAttributes[{{attribute:String}}] = {{value:String}})
        ORDER BY Timestamp DESC LIMIT {{limit:UInt64}}""",
        {
            "start_ns": _TIME,
            "end_ns": _TIME,
            "service": _ANY,
            "route": _ANY,
            "platform": _ANY,
            "status": _ANY,
            "name": _ANY,
            "min_duration_ns": Param("UInt64", default=0),
            "root_only": Param("UInt64", default=0, maximum=1),
            "attribute": Param("String", default="", max_length=256),
            "value": _ANY,
            "limit": _LIMIT,
        },
        "spans matching every given filter, newest first (trace search)",
    ),
    "search_logs": NamedQuery(
        f"""SELECT Timestamp, toUnixTimestamp64Nano(Timestamp) AS TimeNanos, TraceId, SpanId, SeverityText,
            SeverityNumber, ServiceName, Platform, Body, LogAttributes
        FROM {LOGS_TABLE}
        WHERE {_TIME_WINDOW}
          AND ({{after_ns:Int64}} = 0 OR Timestamp > fromUnixTimestamp64Nano({{after_ns:Int64}}))
          AND ({{text:String}} = '' OR positionCaseInsensitive(Body, {{text:String}}) > 0)
          AND SeverityNumber >= {{min_severity:UInt64}}
          AND ({{service:String}} = '' OR ServiceName = {{service:String}})
          AND ({{platform:String}} = '' OR Platform = {{platform:String}})
          AND ({{trace_id:String}} = '' OR TraceId = {{trace_id:String}})
        ORDER BY Timestamp DESC LIMIT {{limit:UInt64}}""",
        {
            "start_ns": _TIME,
            "end_ns": _TIME,
            "after_ns": _TIME,
            "text": _ANY,
            "min_severity": Param("UInt64", default=0, maximum=24),
            "service": _ANY,
            "platform": _ANY,
            "trace_id": Param("String", default="", pattern=_TRACE_ID),
            "limit": _LIMIT,
        },
        "log records matching every given filter, newest first; after_ns for a live tail",
    ),
    "services": NamedQuery(
        f"""SELECT ServiceName, Platform, count() AS Spans FROM {TRACES_TABLE}
        WHERE {_TIME_WINDOW} GROUP BY ServiceName, Platform ORDER BY ServiceName, Platform""",
        {"start_ns": _TIME, "end_ns": _TIME},
        "the services (and their platforms) that sent spans in the window",
    ),
    "counts": NamedQuery(
        f"SELECT (SELECT count() FROM {TRACES_TABLE}) AS spans, (SELECT count() FROM {LOGS_TABLE}) AS logs",
        {},
        "how many spans and log records are stored",
    ),
}
