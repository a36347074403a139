"""Reads at their edges, on a real chDB store: records of one nanosecond across a tail's page
boundary, records exported late, and newest-first trace search across its time windows.

Each test writes its own records under its own service name, so they share one store
(chDB allows one per process at a time: the module's, closed at its end).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fanzwatch.telemetry import LOGS_TABLE, TRACES_TABLE, ChdbTelemetryStore
from fanzwatch.telemetry import params as tp
from fanzwatch.telemetry.reader import (
    FIRST_SLICE_NS,
    TAIL_SETTLE_NS,
    EmbeddedQueries,
    LogCursor,
    LogPage,
    LogRecord,
    LogSearch,
    TelemetryQueryError,
    TelemetryReader,
    TraceSearch,
)
from fanzwatch.telemetry.store import unix_nano_text

S = 10**9
NOW = time.time_ns() // S * S  # whole seconds: each test places its records around it


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbTelemetryStore]:
    opened = ChdbTelemetryStore(Path(tmp_path_factory.mktemp("boundaries")) / "telemetry")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def reader(store: ChdbTelemetryStore) -> TelemetryReader:
    return TelemetryReader(EmbeddedQueries(store))


def _log(service: str, nanos: int, body: str, **attributes: str) -> dict[str, Any]:
    return {
        "Timestamp": unix_nano_text(nanos),
        "TraceId": "",
        "SpanId": "",
        "TraceFlags": 0,
        "SeverityText": "INFO",
        "SeverityNumber": 9,
        "ServiceName": service,
        "Body": body,
        "ResourceSchemaUrl": "",
        "ResourceAttributes": {"service.name": service},
        "ScopeSchemaUrl": "",
        "ScopeName": "test",
        "ScopeVersion": "",
        "ScopeAttributes": {},
        "LogAttributes": attributes,
        "EventName": "",
    }


def _span(service: str, trace_id: str, span_id: str, nanos: int) -> dict[str, Any]:
    return {
        "Timestamp": unix_nano_text(nanos),
        "TraceId": trace_id,
        "SpanId": span_id,
        "ParentSpanId": "",
        "TraceState": "",
        "SpanName": "GET /x",
        "SpanKind": "Server",
        "ServiceName": service,
        "ResourceAttributes": {"service.name": service},
        "ScopeName": "test",
        "ScopeVersion": "",
        "SpanAttributes": {},
        "Duration": 1_000_000,
        "StatusCode": "Ok",
        "StatusMessage": "",
        "Events.Timestamp": [],
        "Events.Name": [],
        "Events.Attributes": [],
        "Links.TraceId": [],
        "Links.SpanId": [],
        "Links.TraceState": [],
        "Links.Attributes": [],
    }


def _tail_all(reader: TelemetryReader, q: LogSearch, cursor: LogCursor) -> list[LogRecord]:
    """Every record a tail gives from ``cursor``, page after page, until a page is empty."""
    out: list[LogRecord] = []
    for _ in range(100):
        page = asyncio.run(reader.tail_logs(q, cursor))
        if not page.records:
            return out
        out += page.records
        cursor = page.cursor
    raise AssertionError("the tail did not run dry")


def _bodies(records: list[LogRecord]) -> list[tuple[str, str, str]]:
    return [(r.service, r.body, r.attributes.get("n", "")) for r in records]


def test_records_of_one_nanosecond_are_each_tailed_once_across_page_boundaries(
    store: ChdbTelemetryStore, reader: TelemetryReader
) -> None:
    t = NOW - 120 * S + 123_456_789
    rows = [
        _log("same-ns-a", t - 1, "before"),
        # Two services log the same line in the same nanosecond (no trace context: equal ids).
        _log("same-ns-a", t, "cache refreshed"),
        _log("same-ns-b", t, "cache refreshed"),
        # One service logs one line twice in that nanosecond: the records are identical.
        _log("same-ns-a", t, "retrying"),
        _log("same-ns-a", t, "retrying"),
        _log("same-ns-a", t, "retrying"),
        _log("same-ns-a", t, "retry", n="1"),
        _log("same-ns-a", t, "retry", n="2"),
        _log("same-ns-b", t + 1, "after"),
    ]
    store.insert(LOGS_TABLE, rows)
    window = {"start_ns": t - S, "end_ns": t + S, "platforms": ()}
    everything = asyncio.run(reader.search_logs(LogSearch(**window, limit=100)))
    assert len([r for r in everything if r.service.startswith("same-ns")]) == len(rows)
    expected = sorted(_bodies([r for r in everything if r.service.startswith("same-ns")]))
    for page_size in (1, 2, 3, 4, 100):
        tailed = _tail_all(reader, LogSearch(**window, limit=page_size), LogCursor(t - S))
        assert sorted(_bodies(tailed)) == expected, f"pages of {page_size}"
        assert [r.time_ns for r in tailed] == sorted(r.time_ns for r in tailed)
    # A cursor in the middle of the identical records says how many of them it has given.
    steps: list[tuple[str, LogCursor]] = []
    cursor = LogCursor(t - 1)
    for _ in range(len(rows)):
        page = asyncio.run(reader.tail_logs(LogSearch(**window, limit=1), cursor))
        steps += [(r.body, page.cursor) for r in page.records]
        cursor = page.cursor
    retrying = [c for body, c in steps if body == "retrying"]
    assert [c.seen for c in retrying] == [1, 2, 3] and len({c.key for c in retrying}) == 1
    assert [LogCursor.parse(str(c)) for _, c in steps] == [c for _, c in steps]  # the written form round-trips
    assert str(retrying[0]) == f"{t}-{retrying[0].tie}" and str(retrying[2]) == f"{t}-{retrying[2].tie}-3"


def test_the_tail_resumes_from_a_search_answer_whose_newest_records_share_a_nanosecond(
    store: ChdbTelemetryStore, reader: TelemetryReader
) -> None:
    t = NOW - 110 * S
    store.insert(LOGS_TABLE, [_log("search-then-tail", t, "tick") for _ in range(3)])
    window = {"start_ns": t - S, "end_ns": t + S, "service": "search-then-tail"}
    found = asyncio.run(reader.search_logs(LogSearch(**window, limit=2)))  # cut inside the group
    cursor = LogCursor.newest_of(found)
    assert cursor is not None and cursor.seen == 2
    assert len(_tail_all(reader, LogSearch(**window, limit=10), cursor)) == 1  # the one not shown yet
    whole = LogCursor.newest_of(asyncio.run(reader.search_logs(LogSearch(**window, limit=10))))
    assert whole is not None and whole.seen == 3
    assert _tail_all(reader, LogSearch(**window, limit=10), whole) == []
    assert LogCursor.newest_of([]) is None


def test_a_record_exported_a_few_seconds_late_is_still_tailed(
    store: ChdbTelemetryStore, reader: TelemetryReader
) -> None:
    """Service A's batch arrives and the tail polls; service B's batch, with an older record, arrives after."""
    now = time.time_ns()
    started = LogCursor(now - 10 * S)
    store.insert(LOGS_TABLE, [_log("late-a", now - 1 * S, "lateexport from a")])

    def poll(cursor: LogCursor, at: int) -> LogPage:
        q, after = tp.log_tail({"q": ["lateexport"], "after": [str(cursor)]}, now_ns=at, platforms=())
        assert q.end_ns == at - TAIL_SETTLE_NS and after == cursor
        return asyncio.run(reader.tail_logs(q, after))

    first = poll(started, now)
    assert first.records == [] and first.cursor == started  # younger than the settle time: not yet
    store.insert(LOGS_TABLE, [_log("late-b", now - 3 * S, "lateexport from b")])
    page = poll(first.cursor, now + TAIL_SETTLE_NS + 1)
    assert [r.body for r in page.records] == ["lateexport from b", "lateexport from a"]
    assert poll(page.cursor, now + TAIL_SETTLE_NS + 2).records == []
    _, default = tp.log_tail({}, now_ns=now, platforms=())
    assert default == LogCursor(now - TAIL_SETTLE_NS)  # no cursor: from where the window settles on
    assert tp.log_tail({"delay": ["0"]}, now_ns=now, platforms=())[0].end_ns == now
    assert tp.log_tail({"delay": ["2s"]}, now_ns=now, platforms=())[0].end_ns == now - 2 * S
    with pytest.raises(TelemetryQueryError, match="at most 60 s"):
        tp.log_tail({"delay": ["61s"]}, now_ns=now, platforms=())


def test_newest_first_trace_search_does_not_drop_traces_of_an_older_window(
    store: ChdbTelemetryStore, reader: TelemetryReader
) -> None:
    """A trace found in the newest window also has spans in the next one: that window's own
    newer traces must still be listed before older ones."""
    end = NOW - 100 * S
    minute = 60 * S
    t = {name: f"{i + 1:032x}" for i, name in enumerate("abcd")}
    spans = [
        _span("slices", t["a"], "a" * 16, end - 1 * minute),
        _span("slices", t["b"], "b" * 16, end - 2 * minute),
        # the next window, 15 min to 1 h 15 min back: a's first span, then c, then d
        _span("slices", t["a"], "a1" * 8, end - FIRST_SLICE_NS - 1 * minute),
        _span("slices", t["c"], "c" * 16, end - FIRST_SLICE_NS - 2 * minute),
        _span("slices", t["d"], "d" * 16, end - FIRST_SLICE_NS - 3 * minute),
    ]
    store.insert(TRACES_TABLE, spans)
    q = TraceSearch(start_ns=end - 4 * 3600 * S, end_ns=end, service="slices", limit=3)
    found = asyncio.run(reader.search_traces(q))
    assert [x.trace_id for x in found] == [t["a"], t["b"], t["c"]]
    assert [x.trace_id for x in asyncio.run(reader.search_traces(TraceSearch(**{**_args(q), "limit": 4})))] == [
        t["a"],
        t["b"],
        t["c"],
        t["d"],
    ]


def _args(q: TraceSearch) -> dict[str, Any]:
    return {"start_ns": q.start_ns, "end_ns": q.end_ns, "service": q.service}


def test_log_search_splits_its_windows_without_losing_the_records_on_an_edge(
    store: ChdbTelemetryStore, reader: TelemetryReader
) -> None:
    end = NOW - 90 * S
    edge = end - FIRST_SLICE_NS  # the first window is [edge, end), the next ends at edge
    rows = [_log("edges", edge + d, f"at {d}") for d in (1, 0, 0, -1)]
    store.insert(LOGS_TABLE, rows)
    q = LogSearch(start_ns=end - 3600 * S, end_ns=end, service="edges", limit=3)
    found = asyncio.run(reader.search_logs(q))
    assert [r.time_ns - edge for r in found] == [1, 0, 0]
    all_four = asyncio.run(reader.search_logs(LogSearch(start_ns=q.start_ns, end_ns=end, service="edges")))
    assert [r.time_ns - edge for r in all_four] == [1, 0, 0, -1]
