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
MAX_TAIL_FETCH = 100_000
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


# -- FanzDash's and the read API's reads (``reader.TelemetryReader`` builds their parameters) --

_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_PLATFORMS = Param("String", default="", max_length=4096, pattern=re.compile(r"^[a-z0-9,-]*$"))
_WINDOW = Param("Int64")  # required: every search is bounded in time
_HALF_OPEN = """Timestamp >= fromUnixTimestamp64Nano({start_ns:Int64})
      AND Timestamp < fromUnixTimestamp64Nano({end_ns:Int64})"""
_IN_PLATFORMS = "({platforms:String} = '' OR has(splitByChar(',', {platforms:String}), Platform))"
_WORDS = " AND ".join(f"({{w{i}:String}} = '' OR hasToken(Body, {{w{i}:String}}))" for i in range(4))
_WORD = Param("String", default="", max_length=256, pattern=re.compile(r"^[0-9A-Za-z\u0080-\U0010ffff]*$"))
# A record's tie-break among records of the same nanosecond: a hash of everything that tells two
# records apart (two services logging the same line in the same nanosecond differ by ServiceName).
# Records identical in all of these share it; the tail's cursor counts how many of those it gave.
_TIE = (
    "cityHash64(ServiceName, TraceId, SpanId, SeverityNumber, SeverityText, Body, LogAttributes,"
    " ResourceAttributes, ScopeName)"
)
_LOG_FILTERS = f"""TimestampTime >= toDateTime(intDiv({{start_ns:Int64}}, 1000000000))
      AND TimestampTime <= toDateTime(intDiv({{end_ns:Int64}}, 1000000000)) AND {_HALF_OPEN}
      AND {_WORDS}
      AND SeverityNumber >= {{min_severity:UInt64}}
      AND ({{service:String}} = '' OR ServiceName = {{service:String}})
      AND {_IN_PLATFORMS}
      AND ({{trace_id:String}} = '' OR TraceId = {{trace_id:String}})
      AND ({{span_id:String}} = '' OR SpanId = {{span_id:String}})"""
_LOG_COLUMNS = f"""toUnixTimestamp64Nano(Timestamp) AS TimeNanos, {_TIE} AS Tie, TraceId, SpanId, SeverityText,
      SeverityNumber, ServiceName, Platform, Body, LogAttributes"""
_LOG_PARAMS = {
    "start_ns": _WINDOW,
    "end_ns": _WINDOW,
    **{f"w{i}": _WORD for i in range(4)},
    "min_severity": Param("UInt64", default=0, maximum=24),
    "service": _ANY,
    "platforms": _PLATFORMS,
    "trace_id": Param("String", default="", pattern=_TRACE_ID),
    "span_id": Param("String", default="", pattern=_SPAN_ID),
    "limit": _LIMIT,
}

QUERIES.update(
    {
        "find_traces": NamedQuery(
            f"""SELECT TraceId, toUnixTimestamp64Nano(min(Timestamp)) AS StartNanos,
                argMax(ServiceName, Duration) AS Service, argMax(SpanName, Duration) AS Name,
                argMax(HttpRoute, Duration) AS Route, argMax(Platform, Duration) AS Plat,
                max(Duration) AS Slowest, count() AS Matched, countIf(StatusCode = 'Error') AS Errors
            FROM {TRACES_TABLE}
            WHERE {_HALF_OPEN}
              AND ({{service:String}} = '' OR ServiceName = {{service:String}})
              AND ({{route:String}} = '' OR HttpRoute = {{route:String}})
              AND ({{name:String}} = '' OR SpanName = {{name:String}})
              AND {_IN_PLATFORMS}
              AND ({{status:String}} = '' OR StatusCode = {{status:String}})
              AND Duration >= {{min_duration_ns:UInt64}}
              AND ({{attribute:String}} = '' OR SpanAttributes[{{attribute:String}}] = {{value:String}}
                   OR ResourceAttributes[{{attribute:String}}] = {{value:String}})
            GROUP BY TraceId
            ORDER BY {{slowest:UInt64}} * Slowest DESC, StartNanos DESC, TraceId LIMIT {{limit:UInt64}}""",
            {
                "start_ns": _WINDOW,
                "end_ns": _WINDOW,
                "service": _ANY,
                "route": _ANY,
                "name": _ANY,
                "platforms": _PLATFORMS,
                "status": _ANY,
                "min_duration_ns": Param("UInt64", default=0),
                "attribute": Param("String", default="", max_length=256),
                "value": _ANY,
                "slowest": Param("UInt64", default=0, maximum=1),
                "limit": _LIMIT,
            },
            "traces with a span matching every filter: first matching start, slowest matching span, counts",
        ),
        "trace_spans": NamedQuery(
            f"""WITH (SELECT (min(Start), max(End)) FROM {TRACE_ID_TS_TABLE} WHERE TraceId = {{trace_id:String}}) AS w
            SELECT TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Platform,
                toUnixTimestamp64Nano(Timestamp) AS StartNanos, Duration, StatusCode, StatusMessage,
                SpanAttributes, ResourceAttributes,
                arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventNanos,
                Events.Name AS EventNames, Events.Attributes AS EventAttributes
            FROM {TRACES_TABLE}
            WHERE TraceId = {{trace_id:String}} AND Timestamp >= w.1 AND Timestamp <= w.2 + 1
            ORDER BY Timestamp, SpanId LIMIT 5000""",
            {"trace_id": _ID},
            "a trace's spans for the waterfall (events with nanosecond times), oldest first, at most 5,000",
        ),
        "find_logs": NamedQuery(
            f"""SELECT {_LOG_COLUMNS} FROM {LOGS_TABLE} WHERE {_LOG_FILTERS}
            ORDER BY Timestamp DESC, Tie DESC LIMIT {{limit:UInt64}}""",
            _LOG_PARAMS,
            "log records, newest first: up to 4 whole words (the Body token index), severity and worse, ids",
        ),
        "tail_logs": NamedQuery(
            f"""SELECT {_LOG_COLUMNS} FROM {LOGS_TABLE} WHERE {_LOG_FILTERS}
              AND (Timestamp, {_TIE}) >= (fromUnixTimestamp64Nano({{after_ns:Int64}}), {{after_tie:UInt64}})
            ORDER BY Timestamp, Tie LIMIT {{limit:UInt64}}""",
            {
                **_LOG_PARAMS,
                "after_ns": Param("Int64", default=0),
                "after_tie": Param("UInt64", default=0),
                # the page's limit plus the records at the cursor's own (time, tie) already given
                "limit": Param("UInt64", default=100, maximum=MAX_TAIL_FETCH),
            },
            "log records from a (time, tie-break) cursor on, oldest first: the live tail (the reader"
            " drops those at the cursor it already gave)",
        ),
    }
)
