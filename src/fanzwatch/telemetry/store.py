"""The embedded trace and log store: chDB (ClickHouse's engine in-process) on one path.

chDB allows one process per database path, so exactly one process owns a store: it is
opened once (tables created, retention applied) and every write is one batched
``JSONEachRow`` insert (SQL ``VALUES`` text is far slower). Timestamps travel as
``"<seconds>.<nanoseconds>"`` text, which ``DateTime64(9)`` parses exactly (a bare integer
is read as seconds and overflows).

>>> store = ChdbTelemetryStore(Path(".fanzwatch/telemetry"), ttl_days=7)  # doctest: +SKIP
>>> store.insert(TRACES_TABLE, [span_row])  # doctest: +SKIP
>>> store.trace("4bf92f3577b34da6a3ce929d0e0e4736")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from .schema import LOGS_TABLE, TRACE_ID_TS_TABLE, TRACES_TABLE, platform_expression, table_statements

_TABLES = frozenset({TRACES_TABLE, LOGS_TABLE})


class StoreInputError(ValueError):
    """A batch the store refuses: unknown table, or lines that are not JSON objects."""


def unix_nano_text(nanos: int) -> str:
    """``1764756000123456789`` → ``"1764756000.123456789"`` (exact in ``DateTime64(9)``)."""
    seconds, rest = divmod(int(nanos), 1_000_000_000)
    return f"{seconds}.{rest:09d}"


class ChdbTelemetryStore:
    """``otel_traces`` / ``otel_logs`` in a chDB database at ``path``; thread-safe (one lock)."""

    def __init__(self, path: Path, *, ttl_days: int = 7) -> None:
        from chdb import session  # ~0.5 GB engine: loaded only by the process that owns the store

        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.ttl_days = ttl_days
        self._lock = threading.Lock()
        open_session: Any = session.Session  # chDB ships no type hints
        self._session: Any = open_session(str(path))
        for statement in table_statements(ttl_days=ttl_days):
            self._session.query(statement)
        # A changed retention applies to tables created earlier too.
        self._session.query(f"ALTER TABLE {TRACES_TABLE} MODIFY TTL toDateTime(Timestamp) + toIntervalDay({ttl_days})")
        self._session.query(f"ALTER TABLE {LOGS_TABLE} MODIFY TTL TimestampTime + toIntervalDay({ttl_days})")
        # And the Platform column's definition (a store created before it read the span's own tenant).
        for table, own in ((TRACES_TABLE, "SpanAttributes"), (LOGS_TABLE, "LogAttributes")):
            self._session.query(
                f"ALTER TABLE {table} MODIFY COLUMN Platform LowCardinality(String) "
                f"MATERIALIZED {platform_expression(own)}"
            )

    def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write ``rows`` (the exporter's column names) in one insert; the number written."""
        if table not in _TABLES:
            raise StoreInputError(f"table {table!r}: use {TRACES_TABLE} or {LOGS_TABLE}")
        lines = [orjson.dumps(row) for row in rows]
        if not lines:
            return 0
        data = b"\n".join(lines).decode()
        with self._lock:
            self._session.query(f"INSERT INTO {table} FORMAT JSONEachRow {data}")
        return len(lines)

    def insert_lines(self, table: str, body: bytes) -> int:
        """Write an encoded batch (one JSON object per line, the exporter's columns) in one insert.

        Each line is checked to be a JSON object first, so a bad batch is refused whole
        (``StoreInputError``) instead of failing half-way inside the engine.
        """
        if table not in _TABLES:
            raise StoreInputError(f"table {table!r}: use {TRACES_TABLE} or {LOGS_TABLE}")
        lines = [line for line in body.split(b"\n") if line.strip()]
        for number, line in enumerate(lines, 1):
            if not line.lstrip().startswith(b"{"):
                raise StoreInputError(f"line {number} is not a JSON object")
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise StoreInputError(f"line {number} is not JSON: {exc}") from None
        if not lines:
            return 0
        data = b"\n".join(lines).decode()
        with self._lock:
            self._session.query(f"INSERT INTO {table} FORMAT JSONEachRow {data}")
        return len(lines)

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Rows of a parameterised ``SELECT`` (``{name:Type}`` placeholders, never string-built)."""
        with self._lock:
            result = self._session.query(sql, "JSONEachRow", params=dict(params or {}))
        text = result.bytes() if hasattr(result, "bytes") else bytes(str(result), "utf-8")
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        """Every span of one trace, oldest first; the id lookup table narrows the time range."""
        return self.query(
            f"""WITH (SELECT (min(Start), max(End)) FROM {TRACE_ID_TS_TABLE} WHERE TraceId = {{t:String}}) AS w
            SELECT *, toUnixTimestamp64Nano(Timestamp) AS StartNanos FROM {TRACES_TABLE}
            WHERE TraceId = {{t:String}} AND Timestamp >= w.1 AND Timestamp <= w.2 + 1
            ORDER BY Timestamp""",
            {"t": trace_id},
        )

    def logs_of_trace(self, trace_id: str) -> list[dict[str, Any]]:
        """The log records carrying ``trace_id``, oldest first."""
        return self.query(
            f"SELECT *, toUnixTimestamp64Nano(Timestamp) AS TimeNanos FROM {LOGS_TABLE} "
            "WHERE TraceId = {t:String} ORDER BY Timestamp",
            {"t": trace_id},
        )

    def count(self, table: str) -> int:
        if table not in _TABLES:
            raise ValueError(f"table {table!r}: use {TRACES_TABLE} or {LOGS_TABLE}")
        rows = self.query(f"SELECT count() AS n FROM {table}")
        return int(rows[0]["n"])

    def close(self) -> None:
        with self._lock:
            self._session.close()


def span_row(
    *,
    trace_id: str,
    span_id: str,
    name: str,
    service: str,
    start_nanos: int,
    duration_nanos: int,
    parent_span_id: str = "",
    kind: str = "Internal",
    status: str = "Unset",
    resource: Mapping[str, str] | None = None,
    attributes: Mapping[str, str] | None = None,
    events: Sequence[tuple[int, str, Mapping[str, str]]] = (),
) -> dict[str, Any]:
    """One ``otel_traces`` row in the exporter's columns (the receiver's output shape)."""
    return {
        "Timestamp": unix_nano_text(start_nanos),
        "TraceId": trace_id,
        "SpanId": span_id,
        "ParentSpanId": parent_span_id,
        "TraceState": "",
        "SpanName": name,
        "SpanKind": kind,
        "ServiceName": service,
        "ResourceAttributes": dict(resource or {}),
        "ScopeName": "",
        "ScopeVersion": "",
        "SpanAttributes": dict(attributes or {}),
        "Duration": int(duration_nanos),
        "StatusCode": status,
        "StatusMessage": "",
        "Events.Timestamp": [unix_nano_text(t) for t, _, _ in events],
        "Events.Name": [n for _, n, _ in events],
        "Events.Attributes": [dict(a) for _, _, a in events],
        "Links.TraceId": [],
        "Links.SpanId": [],
        "Links.TraceState": [],
        "Links.Attributes": [],
    }
