"""The embedded chDB store: the exporter's tables, exact read-back, retention across reopen.

chDB allows one database path per process, so the whole life of one store is one test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore, span_row, table_statements, unix_nano_text
from fanzwatch.telemetry.schema import platform_expression

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_unix_nano_text_is_exact() -> None:
    assert unix_nano_text(1_764_756_000_000_000_001) == "1764756000.000000001"
    assert unix_nano_text(5) == "0.000000005"


def test_retention_must_keep_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        table_statements(ttl_days=0)
    assert "toIntervalDay(30)" in table_statements(ttl_days=30)[0]


def test_spans_and_logs_are_read_back_exactly_and_outlive_a_reopen(tmp_path: Path) -> None:
    now = time.time_ns()
    root = span_row(
        trace_id=TRACE,
        span_id="00f067aa0ba902b7",
        name="POST /payments",
        service="fanz-platform",
        start_nanos=now,
        duration_nanos=250_000_000,
        kind="Server",
        status="Error",
        resource={"fanz.platform": "fanz-1", "service.name": "fanz-platform"},
        attributes={"http.route": "/payments", "http.response.status_code": "502"},
        events=[(now + 1_000, "fraud.checked", {"fraud.score": "0.93"})],
    )
    child = span_row(
        trace_id=TRACE,
        span_id="53995c3f42cd8ad8",
        parent_span_id="00f067aa0ba902b7",
        name="fraud-check",
        service="payment-processor",
        start_nanos=now + 2_000,
        duration_nanos=100_000_000,
        kind="Client",
    )
    other = span_row(trace_id="f" * 32, span_id="1" * 16, name="GET /", service="x", start_nanos=now, duration_nanos=1)
    log = {
        "Timestamp": unix_nano_text(now + 3_000),
        "TraceId": TRACE,
        "SpanId": "00f067aa0ba902b7",
        "TraceFlags": 1,
        "SeverityText": "ERROR",
        "SeverityNumber": 17,
        "ServiceName": "fanz-platform",
        "Body": "payment declined: fraud score 0.93",
        "ResourceSchemaUrl": "",
        "ResourceAttributes": {"fanz.platform": "fanz-1"},
        "ScopeSchemaUrl": "",
        "ScopeName": "payments",
        "ScopeVersion": "",
        "ScopeAttributes": {},
        "LogAttributes": {"payment.id": "p-1"},
        "EventName": "",
    }
    store = ChdbTelemetryStore(tmp_path / "telemetry", ttl_days=7)
    assert store.insert(TRACES_TABLE, [root, child, other]) == 3
    assert store.insert(LOGS_TABLE, [log]) == 1
    assert store.insert(TRACES_TABLE, []) == 0
    store.close()

    store = ChdbTelemetryStore(tmp_path / "telemetry", ttl_days=3)  # reopened, retention changed
    try:
        spans = store.trace(TRACE)
        assert [s["SpanId"] for s in spans] == ["00f067aa0ba902b7", "53995c3f42cd8ad8"]
        first = spans[0]
        assert int(first["StartNanos"]) == now  # nanoseconds survive exactly
        assert first["Duration"] == 250_000_000
        assert first["StatusCode"] == "Error" and first["SpanKind"] == "Server"
        assert first["ResourceAttributes"] == {"fanz.platform": "fanz-1", "service.name": "fanz-platform"}
        assert first["SpanAttributes"] == {"http.route": "/payments", "http.response.status_code": "502"}
        assert first["Events.Name"] == ["fraud.checked"]
        assert first["Events.Attributes"] == [{"fraud.score": "0.93"}]
        assert spans[1]["ParentSpanId"] == "00f067aa0ba902b7"
        # The materialised filter columns the dashboard uses.
        rows = store.query(
            f"SELECT Platform, HttpRoute FROM {TRACES_TABLE} WHERE SpanId = {{s:String}}", {"s": "00f067aa0ba902b7"}
        )
        assert rows == [{"Platform": "fanz-1", "HttpRoute": "/payments"}]
        logs = store.logs_of_trace(TRACE)
        assert [(r["Body"], r["SeverityNumber"], int(r["TimeNanos"])) for r in logs] == [
            ("payment declined: fraud score 0.93", 17, now + 3_000)
        ]
        assert store.count(TRACES_TABLE) == 3 and store.count(LOGS_TABLE) == 1
        ttl = store.query(
            "SELECT create_table_query AS q FROM system.tables WHERE name = {n:String}", {"n": TRACES_TABLE}
        )
        assert "toIntervalDay(3)" in ttl[0]["q"]
        with pytest.raises(ValueError, match="use otel_traces or otel_logs"):
            store.insert("users", [{}])
    finally:
        store.close()


def test_the_platform_is_the_records_own_tenant_before_its_resources(tmp_path: Path) -> None:
    """One demo platform process serves 13 tenants: its resource names one, each span and log its own."""
    now = time.time_ns()
    resource = {"fanz.platform": "fanz-1", "service.name": "fanz-platform"}
    tenant = span_row(
        trace_id=TRACE, span_id="2" * 16, name="POST /tips", service="fanz-platform", start_nanos=now,
        duration_nanos=1, resource=resource, attributes={"fanz.platform": "fanz-3"},
    )  # fmt: skip
    untagged = span_row(
        trace_id=TRACE, span_id="3" * 16, name="GET /", service="fanz-platform", start_nanos=now,
        duration_nanos=1, resource=resource,
    )  # fmt: skip
    log = {
        "Timestamp": unix_nano_text(now), "TraceId": TRACE, "SpanId": "2" * 16, "TraceFlags": 1,
        "SeverityText": "INFO", "SeverityNumber": 9, "ServiceName": "fanz-platform", "Body": "tip",
        "ResourceSchemaUrl": "", "ResourceAttributes": resource, "ScopeSchemaUrl": "", "ScopeName": "",
        "ScopeVersion": "", "ScopeAttributes": {}, "LogAttributes": {"fanz.platform": "fanz-3"}, "EventName": "",
    }  # fmt: skip
    store = ChdbTelemetryStore(tmp_path / "telemetry", ttl_days=7)
    try:
        store.insert(TRACES_TABLE, [tenant, untagged])
        store.insert(LOGS_TABLE, [log])
        spans = store.query(f"SELECT SpanId, Platform FROM {TRACES_TABLE} ORDER BY SpanId", {})
        assert spans == [{"SpanId": "2" * 16, "Platform": "fanz-3"}, {"SpanId": "3" * 16, "Platform": "fanz-1"}]
        assert store.query(f"SELECT Platform FROM {LOGS_TABLE}", {}) == [{"Platform": "fanz-3"}]
    finally:
        store.close()


def test_a_store_created_with_the_old_platform_column_gets_the_new_one_on_open(tmp_path: Path) -> None:
    from chdb import session

    old = session.Session(str(tmp_path / "telemetry"))
    for statement in table_statements(ttl_days=7):
        old.query(statement.replace(platform_expression("SpanAttributes"), "ResourceAttributes['fanz.platform']"))
    old.close()
    store = ChdbTelemetryStore(tmp_path / "telemetry", ttl_days=7)
    try:
        row = span_row(
            trace_id=TRACE, span_id="4" * 16, name="t", service="s", start_nanos=time.time_ns(), duration_nanos=1,
            resource={"fanz.platform": "fanz-1"}, attributes={"fanz.platform": "fanz-5"},
        )  # fmt: skip
        store.insert(TRACES_TABLE, [row])
        assert store.query(f"SELECT Platform FROM {TRACES_TABLE}", {}) == [{"Platform": "fanz-5"}]
    finally:
        store.close()
