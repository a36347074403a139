"""Trace and log reads (named queries, bound as the store process binds them) on a real chDB
store holding spans and logs of the real OpenTelemetry SDK.

chDB allows one store per process at a time: the module shares one, closed at its end.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry.reader import (
    MAX_TAIL,
    EmbeddedQueries,
    LogCursor,
    LogSearch,
    TelemetryQueryError,
    TelemetryReader,
    TraceSearch,
)

from ._flow import MS, ROUTE, Flow, payment_flow


@pytest.fixture(scope="module")
def flow() -> Flow:
    return payment_flow()


class SyncReader:
    """The reader's coroutines, each run to completion (the tests are synchronous)."""

    def __init__(self, reader: TelemetryReader) -> None:
        self.reader = reader

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.reader, name)
        return lambda *args, **kwargs: asyncio.run(method(*args, **kwargs))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, flow: Flow) -> Iterator[Any]:
    opened = ChdbTelemetryStore(Path(tmp_path_factory.mktemp("queries")) / "telemetry")
    try:
        opened.insert(TRACES_TABLE, flow.spans)
        opened.insert(LOGS_TABLE, flow.logs)
        yield SyncReader(TelemetryReader(EmbeddedQueries(opened)))
    finally:
        opened.close()


def _window(flow: Flow) -> dict[str, int]:
    return {"start_ns": flow.start_ns - 60 * 10**9, "end_ns": time.time_ns() + 60 * 10**9}


def test_search_by_route_and_min_duration_finds_the_slow_purchases(store: Any, flow: Flow) -> None:
    found = store.search_traces(TraceSearch(**_window(flow), route=ROUTE, min_duration_ns=1000 * MS))
    assert [t.trace_id for t in found] == [flow.other_platform_trace, flow.slow_trace]  # newest first
    slowest = store.search_traces(
        TraceSearch(**_window(flow), route=ROUTE, min_duration_ns=1000 * MS, platforms=("fanz-1",), order="slowest")
    )
    assert len(slowest) == 1
    t = slowest[0]
    assert (t.trace_id, t.service, t.platform, t.route) == (flow.slow_trace, "fanz-platform", "fanz-1", ROUTE)
    assert (t.duration_ns, t.matched_spans, t.errors, t.start_ns) == (2400 * MS, 1, 1, flow.start_ns)


def test_search_filters_status_service_name_and_attributes(store: Any, flow: Flow) -> None:
    w = _window(flow)
    failed = store.search_traces(TraceSearch(**w, status="Error"))
    assert [(t.trace_id, t.matched_spans, t.errors) for t in failed] == [(flow.slow_trace, 2, 2)]
    checks = store.search_traces(TraceSearch(**w, service="payment-processor", min_duration_ns=1000 * MS))
    assert [(t.trace_id, t.span_name, t.duration_ns) for t in checks] == [(flow.slow_trace, "fraud-check", 1900 * MS)]
    by_attribute = store.search_traces(TraceSearch(**w, attributes=(("payment.id", f"pay-{flow.start_ns}"),)))
    assert [t.trace_id for t in by_attribute] == [flow.slow_trace]
    by_resource = store.search_traces(
        TraceSearch(**w, attributes=(("fanz.platform", "fanz-2"),), span_name="POST " + ROUTE)
    )
    assert [t.trace_id for t in by_resource] == [flow.other_platform_trace]
    everything = store.search_traces(TraceSearch(**w, limit=3, order="slowest"))
    assert [t.duration_ns for t in everything] == [3000 * MS, 2400 * MS, 44 * MS]
    assert store.search_traces(TraceSearch(start_ns=1, end_ns=2)) == []


def test_a_trace_is_read_back_exactly_with_its_tree_and_events(store: Any, flow: Flow) -> None:
    spans = store.spans_of_trace(flow.slow_trace.upper())
    assert [s.name for s in spans] == ["POST " + ROUTE, "fraud-check call", "fraud-check"]
    root, call, check = spans
    assert root.parent_span_id == "" and call.parent_span_id == root.span_id and check.parent_span_id == call.span_id
    assert (root.start_ns, root.duration_ns) == (flow.start_ns, 2400 * MS)
    assert (check.start_ns, check.duration_ns) == (flow.start_ns + 3 * MS, 1900 * MS)
    assert (check.service, check.kind, check.status, check.status_message) == (
        "payment-processor",
        "Server",
        "Error",
        "fraud score over threshold",
    )
    assert [(e.time_ns, e.name, e.attributes) for e in check.events] == [
        (flow.start_ns + 4 * MS, "fraud.scored", {"fraud.score": "0.93"})
    ]
    assert root.attributes["http.route"] == ROUTE and root.resource["fanz.platform"] == "fanz-1"
    assert root.platform == "fanz-1"
    expected = {r["SpanId"]: r for r in flow.spans if r["TraceId"] == flow.slow_trace}
    assert {s.span_id: s.attributes for s in spans} == {k: r["SpanAttributes"] for k, r in expected.items()}
    assert store.spans_of_trace("0123456789abcdef0123456789abcdef") == []


def test_log_search_by_words_severity_trace_and_span(store: Any, flow: Flow) -> None:
    w = _window(flow)
    declined = store.search_logs(LogSearch(**w, text="declined"))
    assert [(r.severity_text, r.service, r.trace_id) for r in declined] == [
        ("WARN", "fanz-platform", flow.slow_trace),
        ("ERROR", "payment-processor", flow.slow_trace),
    ]
    assert declined[1].body == "payment declined: fraud score 0.93 over 0.9"
    assert [r.body for r in store.search_logs(LogSearch(**w, text="fraud declined", severity="error"))] == [
        "payment declined: fraud score 0.93 over 0.9"
    ]
    of_trace = store.search_logs(LogSearch(**w, trace_id=flow.slow_trace))
    assert [r.severity_number for r in of_trace] == [13, 17, 9]
    check = next(s for s in store.spans_of_trace(flow.slow_trace) if s.name == "fraud-check")
    assert [r.span_id for r in store.search_logs(LogSearch(**w, span_id=check.span_id))] == [check.span_id]
    fanz2 = store.search_logs(LogSearch(**w, platforms=("fanz-2",)))
    assert {r.trace_id for r in fanz2} == {flow.other_platform_trace} and len(fanz2) == 1
    assert store.search_logs(LogSearch(**w, text="Declined")) == []  # words match as written
    assert len(store.search_logs(LogSearch(**w, limit=4))) == 4


def test_the_tail_pages_through_every_record_once_in_order(store: Any, flow: Flow) -> None:
    w = _window(flow)
    expected = [r.cursor for r in reversed(store.search_logs(LogSearch(**w, limit=1000)))]
    assert len(expected) == len(flow.logs)
    seen: list[LogCursor] = []
    cursor = LogCursor(w["start_ns"])
    for _ in range(len(expected)):
        page = store.tail_logs(LogSearch(**w, limit=3), cursor)
        seen += [r.cursor for r in page.records]
        if not page.records:
            break
        cursor = page.cursor
    assert seen == expected
    assert store.tail_logs(LogSearch(**w, limit=3), cursor).records == []
    warnings = store.tail_logs(LogSearch(**w, severity="warn", limit=10), LogCursor(w["start_ns"]))
    assert [r.severity_text for r in warnings.records] == ["ERROR", "WARN"]
    with pytest.raises(TelemetryQueryError, match=f"at most {MAX_TAIL}"):
        store.tail_logs(LogSearch(**w, limit=MAX_TAIL + 1), cursor)
