"""Traces and logs: the OTel Collector ClickHouse exporter's tables (``otel_traces``,
``otel_logs``) on an embedded chDB store (see ``store``), the same schema a ClickHouse
cluster holds at scale (``schema``)."""

from .schema import LOGS_TABLE, TRACES_TABLE, table_statements
from .store import ChdbTelemetryStore, span_row, unix_nano_text

__all__ = ["LOGS_TABLE", "TRACES_TABLE", "ChdbTelemetryStore", "span_row", "table_statements", "unix_nano_text"]
