"""The tables, as the OpenTelemetry Collector's ClickHouse exporter creates them.

``otel_traces`` and ``otel_logs`` have the exporter's columns, codecs, skip indexes,
partitioning and order keys (``exporter/clickhouseexporter/internal/sqltemplates``), so
the same queries run on the embedded engine and on a ClickHouse cluster the Collector
writes. Two additions, both ``MATERIALIZED`` (computed by the engine, invisible to an
``INSERT`` that names the exporter's columns): ``Platform`` (the ``fanz.platform``
attribute of the span or log record, else of its resource: one process can serve many
tenants, and the SDK puts the request's tenant on each span and record) and ``HttpRoute``
(``http.route``), each with a ``set`` index, for the FanzDash filters.

>>> ddl = table_statements(ttl_days=7)
>>> ddl[0].startswith("CREATE TABLE IF NOT EXISTS otel_traces")
True
"""

from __future__ import annotations

import re

TRACES_TABLE = "otel_traces"
LOGS_TABLE = "otel_logs"
TRACE_ID_TS_TABLE = "otel_traces_trace_id_ts"
PLATFORM_ATTRIBUTE = "fanz.platform"

_MAP = "Map(LowCardinality(String), String)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def platform_expression(own: str) -> str:
    """The tenant: the record's own ``fanz.platform`` attribute, else its resource's."""
    a = PLATFORM_ATTRIBUTE
    return f"if({own}['{a}'] != '', {own}['{a}'], ResourceAttributes['{a}'])"


TRACES_DDL = f"""CREATE TABLE IF NOT EXISTS {{prefix}}{TRACES_TABLE}{{suffix}}{{on_cluster}} (
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes {_MAP} CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes {_MAP}
    ) CODEC(ZSTD(1)),
    Platform LowCardinality(String) MATERIALIZED {platform_expression("SpanAttributes")},
    HttpRoute LowCardinality(String) MATERIALIZED SpanAttributes['http.route'],
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_platform Platform TYPE set(64) GRANULARITY 1,
    INDEX idx_route HttpRoute TYPE set(256) GRANULARITY 1
) ENGINE = {{engine}}
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
TTL toDateTime(Timestamp) + toIntervalDay({{ttl_days}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""

LOGS_DDL = f"""CREATE TABLE IF NOT EXISTS {{prefix}}{LOGS_TABLE}{{suffix}}{{on_cluster}} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes {_MAP} CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes {_MAP} CODEC(ZSTD(1)),
    LogAttributes {_MAP} CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),
    Platform LowCardinality(String) MATERIALIZED {platform_expression("LogAttributes")},
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8,
    INDEX idx_platform Platform TYPE set(64) GRANULARITY 1
) ENGINE = {{engine}}
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
TTL TimestampTime + toIntervalDay({{ttl_days}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""

TRACE_ID_TS_DDL = f"""CREATE TABLE IF NOT EXISTS {{prefix}}{TRACE_ID_TS_TABLE}{{suffix}}{{on_cluster}} (
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = {{engine}}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
TTL toDateTime(Start) + toIntervalDay({{ttl_days}})
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1"""

TRACE_ID_TS_MV_DDL = f"""CREATE MATERIALIZED VIEW IF NOT EXISTS {{prefix}}{TRACE_ID_TS_TABLE}_mv{{on_cluster}}
TO {{prefix}}{TRACE_ID_TS_TABLE}{{suffix}}
AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM {{prefix}}{TRACES_TABLE}{{suffix}}
WHERE TraceId != ''
GROUP BY TraceId"""

# The exporter's columns, in its order: what a JSONEachRow insert names.
TRACE_COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode",
    "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId",
    "Links.TraceState", "Links.Attributes",
)  # fmt: skip
LOG_COLUMNS = (
    "Timestamp", "TraceId", "SpanId", "TraceFlags", "SeverityText", "SeverityNumber", "ServiceName", "Body",
    "ResourceSchemaUrl", "ResourceAttributes", "ScopeSchemaUrl", "ScopeName", "ScopeVersion", "ScopeAttributes",
    "LogAttributes", "EventName",
)  # fmt: skip


def table_statements(
    *,
    ttl_days: int,
    engine: str = "MergeTree()",
    database: str | None = None,
    table_suffix: str = "",
    cluster: str | None = None,
) -> tuple[str, ...]:
    """The ``CREATE`` statements, in order, with the retention and the table engine.

    The defaults give what chDB runs (and ``deploy/clickhouse/schema.sql``). On a cluster
    (``fanzwatch.telemetry.deploy``) the same tables are the shards' local tables: named
    ``<table><table_suffix>`` in ``database``, created ``ON CLUSTER <cluster>`` with a
    ``ReplicatedMergeTree(...)`` engine, the trace-id view reading and writing local tables.
    """
    if ttl_days < 1:
        raise ValueError(f"ttl_days={ttl_days}: keep data at least one day")
    for name, value in (("database", database), ("cluster", cluster), ("table_suffix", table_suffix)):
        if value and not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{name}={value!r}: letters, digits and underscores only")
    fields = {
        "engine": engine,
        "ttl_days": int(ttl_days),
        "prefix": f"{database}." if database else "",
        "suffix": table_suffix,
        "on_cluster": f" ON CLUSTER {cluster}" if cluster else "",
    }
    return tuple(ddl.format(**fields) for ddl in (TRACES_DDL, LOGS_DDL, TRACE_ID_TS_DDL, TRACE_ID_TS_MV_DDL))
