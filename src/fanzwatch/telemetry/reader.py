"""Typed reads of traces and logs over the store's named queries (``queries.QUERIES``).

Every read is a frozen parameters object, checked when built (a bad hex id, an inverted
or too long time range, a huge limit raise ``TelemetryQueryError``, answered 400), sent as
a named query with scalar parameters to whatever answers them: the store process through
``TelemetryStoreClient``, or an embedded store in this process (``EmbeddedQueries``). The
rows come back as result objects for the API and FanzDash.

>>> reader = TelemetryReader(client)  # a TelemetryStoreClient  # doctest: +SKIP
>>> await reader.search_traces(TraceSearch(start_ns=a, end_ns=b, route="/payments"))  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio.to_thread

from ..core.errors import FanzwatchError
from .queries import MAX_TAIL_FETCH, QUERIES, QueryParameterError

if TYPE_CHECKING:
    from .store import ChdbTelemetryStore

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
MAX_TAIL = 500
MAX_SEEN = MAX_TAIL_FETCH - MAX_TAIL  # records of one (time, tie-break) a cursor can have given
TAIL_SETTLE_NS = 5 * 10**9
"""How far behind now a tail reads: records exported late (batching exporters, the receiver's
queue) by less than this still arrive in time order instead of behind the cursor."""
MAX_RANGE_NS = 8 * 86_400 * 1_000_000_000  # the default retention (7 days) and a margin
MAX_TRACE_SPANS = 5000
MAX_ATTRIBUTE_FILTERS = 1  # the named queries take one key=value
MAX_WORDS = 4
MAX_PLATFORMS = 64
MAX_TEXT = 256
STATUSES = ("Ok", "Error", "Unset")
SEVERITIES = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}
"""The lowest OpenTelemetry ``SeverityNumber`` of each level: ``severity=warn`` is WARN and worse."""

_HEX_TRACE = re.compile(r"[0-9a-f]{32}")
_HEX_SPAN = re.compile(r"[0-9a-f]{16}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# ClickHouse's token index splits on every ASCII character that is not a letter or digit.
_TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")


class TelemetryQueryError(FanzwatchError, QueryParameterError):
    """A trace or log query parameter is out of bounds; the message says what is allowed."""


def check_trace_id(value: str) -> str:
    """A trace id as stored: 32 lowercase hex digits, not all zero."""
    text = value.strip().lower()
    if not _HEX_TRACE.fullmatch(text) or text == "0" * 32:
        raise TelemetryQueryError(f"trace id {value[:40]!r} is not 32 hex digits (W3C trace-id)")
    return text


def check_span_id(value: str) -> str:
    text = value.strip().lower()
    if not _HEX_SPAN.fullmatch(text) or text == "0" * 16:
        raise TelemetryQueryError(f"span id {value[:20]!r} is not 16 hex digits")
    return text


def _text(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_TEXT or _CONTROL.search(value):
        raise TelemetryQueryError(f"{name} must be at most {MAX_TEXT} printable characters")
    return value.strip()


def _window(start_ns: int, end_ns: int) -> None:
    if end_ns <= start_ns:
        raise TelemetryQueryError("the time range is inverted or empty: 'from' must be before 'to'")
    if end_ns - start_ns > MAX_RANGE_NS:
        raise TelemetryQueryError("the time range may span at most 8 days (the store keeps 7 by default)")


def _limit(value: int, most: int) -> None:
    if not 1 <= value <= most:
        raise TelemetryQueryError(f"limit {value} is out of bounds: 1 to {most}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceSearch:
    """Traces with at least one span matching every filter in ``[start_ns, end_ns)``."""

    start_ns: int
    end_ns: int
    service: str | None = None
    route: str | None = None
    span_name: str | None = None
    platforms: tuple[str, ...] = ()
    status: str | None = None
    min_duration_ns: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    order: Literal["newest", "slowest"] = "newest"
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        _window(self.start_ns, self.end_ns)
        _limit(self.limit, MAX_LIMIT)
        for name in ("service", "route", "span_name"):
            object.__setattr__(self, name, _text(name, getattr(self, name)))
        if self.status is not None and self.status not in STATUSES:
            raise TelemetryQueryError(f"status {self.status[:20]!r}: choose one of {', '.join(STATUSES)}")
        if self.min_duration_ns is not None and not 0 <= self.min_duration_ns <= 86_400 * 10**9:
            raise TelemetryQueryError("min duration must be between 0 and 24 h")
        if len(self.platforms) > MAX_PLATFORMS:
            raise TelemetryQueryError(f"at most {MAX_PLATFORMS} platforms")
        if len(self.attributes) > MAX_ATTRIBUTE_FILTERS:
            raise TelemetryQueryError(f"at most {MAX_ATTRIBUTE_FILTERS} attribute filters")
        for key, value in self.attributes:
            if not key or _text("attribute", key) != key or len(value) > MAX_TEXT or _CONTROL.search(value):
                raise TelemetryQueryError(f"attribute filter {key[:40]!r}: key=value, printable, at most {MAX_TEXT}")
        if self.order not in ("newest", "slowest"):
            raise TelemetryQueryError("order: newest or slowest")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogSearch:
    """Log records matching every filter in ``[start_ns, end_ns)``; ``text``: every word, whole."""

    start_ns: int
    end_ns: int
    text: str | None = None
    severity: str | None = None
    service: str | None = None
    platforms: tuple[str, ...] = ()
    trace_id: str | None = None
    span_id: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        _window(self.start_ns, self.end_ns)
        _limit(self.limit, MAX_LIMIT)
        object.__setattr__(self, "text", _text("text", self.text))
        object.__setattr__(self, "service", _text("service", self.service))
        if len(self.platforms) > MAX_PLATFORMS:
            raise TelemetryQueryError(f"at most {MAX_PLATFORMS} platforms")
        if self.text is not None and not _TOKEN.search(self.text):
            raise TelemetryQueryError("text must contain a word (letters or digits)")
        if len(set(_TOKEN.findall(self.text or ""))) > MAX_WORDS:
            raise TelemetryQueryError(f"search for at most {MAX_WORDS} words at a time")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise TelemetryQueryError(f"severity {self.severity[:20]!r}: choose one of {', '.join(SEVERITIES)}")
        if self.trace_id is not None:
            object.__setattr__(self, "trace_id", check_trace_id(self.trace_id))
        if self.span_id is not None:
            object.__setattr__(self, "span_id", check_span_id(self.span_id))

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_TOKEN.findall(self.text or "")))[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class LogCursor:
    """Where a live tail stopped: the last record's time and tie-break hash, and how many records
    with exactly that (time, tie-break) it has given (``seen``).

    Written ``"<ns>-<tie>"`` when ``seen`` is 1 (the usual case: one record per key) and
    ``"<ns>-<tie>-<seen>"`` otherwise, so identical records logged in the same nanosecond
    (the same line twice, in one span) are each tailed once, even across a page boundary.
    A bare ``"<ns>"`` or ``LogCursor(ns)`` is "from this time on": ``seen`` 0.
    """

    nanos: int
    tie: int = 0
    seen: int = 0

    def __str__(self) -> str:
        return f"{self.nanos}-{self.tie}" if self.seen == 1 else f"{self.nanos}-{self.tie}-{self.seen}"

    @property
    def key(self) -> tuple[int, int]:
        return (self.nanos, self.tie)

    @classmethod
    def parse(cls, text: str) -> LogCursor:
        nanos, _, rest = text.partition("-")
        tie, _, seen = rest.partition("-")
        ok = nanos.isdigit() and len(nanos) <= 19
        ok = ok and (tie == "" or (tie.isdigit() and len(tie) <= 20))
        ok = ok and (seen == "" or (tie != "" and seen.isdigit() and len(seen) <= 6))
        if not ok:
            raise TelemetryQueryError(f"cursor {text[:45]!r} is not <nanoseconds>-<number> as a tail answer gives")
        value = int(tie or 0)
        count = int(seen) if seen else (1 if tie else 0)
        if value >= 2**64 or int(nanos) >= 2**63 or count > MAX_SEEN:
            raise TelemetryQueryError("cursor out of range")
        return cls(int(nanos), value, count)

    @classmethod
    def newest_of(cls, records: Sequence[LogRecord]) -> LogCursor | None:
        """The cursor after a search answer (newest first): its newest record, counting the
        records of the same (time, tie-break) the answer holds; None for no records."""
        if not records:
            return None
        key = records[0].key
        return cls(*key, sum(1 for _ in itertools.takewhile(lambda r: r.key == key, records)))


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One trace found: its first matching span's start and its slowest matching span."""

    trace_id: str
    start_ns: int
    service: str
    span_name: str
    route: str
    platform: str
    duration_ns: int
    matched_spans: int
    errors: int


@dataclass(frozen=True, slots=True)
class SpanEvent:
    time_ns: int
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str
    service: str
    platform: str
    start_ns: int
    duration_ns: int
    status: str
    status_message: str
    attributes: dict[str, str]
    resource: dict[str, str]
    events: list[SpanEvent] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LogRecord:
    time_ns: int
    tie: int
    trace_id: str
    span_id: str
    severity_text: str
    severity_number: int
    service: str
    platform: str
    body: str
    attributes: dict[str, str]

    @property
    def key(self) -> tuple[int, int]:
        """The tail's order: time, then the tie-break hash."""
        return (self.time_ns, self.tie)

    @property
    def cursor(self) -> LogCursor:
        """The cursor after this record, as if it were the only one of its (time, tie-break)."""
        return LogCursor(self.time_ns, self.tie, 1)


@dataclass(frozen=True, slots=True)
class LogPage:
    """A tail answer: records oldest first, and the cursor to ask from next."""

    records: list[LogRecord]
    cursor: LogCursor


class NamedQueries(Protocol):
    """Answers the store's named queries: ``TelemetryStoreClient`` or ``EmbeddedQueries``."""

    async def query(self, name: str, /, **params: str | int) -> list[dict[str, Any]]: ...


class EmbeddedQueries:
    """Named queries on a store in this process, bound exactly as the store process binds
    them (``QUERIES[name].bind``) and run in a worker thread."""

    def __init__(self, store: ChdbTelemetryStore) -> None:
        self.store = store

    async def query(self, name: str, /, **params: str | int) -> list[dict[str, Any]]:
        found = QUERIES.get(name)
        if found is None:
            raise QueryParameterError(f"no query {name!r}; known: {', '.join(QUERIES)}")
        bound = found.bind(params)
        return await anyio.to_thread.run_sync(lambda: self.store.query(found.sql, bound))


FIRST_SLICE_NS = 15 * 60 * 10**9
SLICE_GROWTH = 4


def newest_first_slices(start_ns: int, end_ns: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut from the end into windows 15 min, 1 h, 4 h, 16 h … long.

    A newest-first search with a limit reads the newest window first and stops once it
    has enough: the engine's sort key starts with the service, not the time, so one query
    over 24 h would read every matching row to keep the newest hundred.
    """
    out = []
    size, end = FIRST_SLICE_NS, end_ns
    while end > start_ns:
        out.append((max(start_ns, end - size), end))
        end -= size
        size *= SLICE_GROWTH
    return out


def _trace_params(q: TraceSearch) -> dict[str, str | int]:
    attribute, value = q.attributes[0] if q.attributes else ("", "")
    return {
        "start_ns": q.start_ns,
        "end_ns": q.end_ns,
        "service": q.service or "",
        "route": q.route or "",
        "name": q.span_name or "",
        "platforms": ",".join(q.platforms),
        "status": q.status or "",
        "min_duration_ns": q.min_duration_ns or 0,
        "attribute": attribute,
        "value": value,
        "slowest": 1 if q.order == "slowest" else 0,
        "limit": q.limit,
    }


def _summary(r: Mapping[str, Any]) -> TraceSummary:
    return TraceSummary(
        trace_id=r["TraceId"],
        start_ns=int(r["StartNanos"]),
        service=r["Service"],
        span_name=r["Name"],
        route=r["Route"],
        platform=r["Plat"],
        duration_ns=int(r["Slowest"]),
        matched_spans=int(r["Matched"]),
        errors=int(r["Errors"]),
    )


def _span(r: Mapping[str, Any]) -> Span:
    return Span(
        trace_id=r["TraceId"],
        span_id=r["SpanId"],
        parent_span_id=r["ParentSpanId"],
        name=r["SpanName"],
        kind=r["SpanKind"],
        service=r["ServiceName"],
        platform=r["Platform"],
        start_ns=int(r["StartNanos"]),
        duration_ns=int(r["Duration"]),
        status=r["StatusCode"],
        status_message=r["StatusMessage"],
        attributes=dict(r["SpanAttributes"]),
        resource=dict(r["ResourceAttributes"]),
        events=[
            SpanEvent(int(t), n, dict(a))
            for t, n, a in zip(r["EventNanos"], r["EventNames"], r["EventAttributes"], strict=True)
        ],
    )


def _log_params(q: LogSearch) -> dict[str, str | int]:
    words = q.words + ("",) * (MAX_WORDS - len(q.words))
    return {
        "start_ns": q.start_ns,
        "end_ns": q.end_ns,
        **{f"w{i}": w for i, w in enumerate(words)},
        "min_severity": SEVERITIES[q.severity] if q.severity else 0,
        "service": q.service or "",
        "platforms": ",".join(q.platforms),
        "trace_id": q.trace_id or "",
        "span_id": q.span_id or "",
        "limit": q.limit,
    }


def _record(r: Mapping[str, Any]) -> LogRecord:
    return LogRecord(
        time_ns=int(r["TimeNanos"]),
        tie=int(r["Tie"]),
        trace_id=r["TraceId"],
        span_id=r["SpanId"],
        severity_text=r["SeverityText"],
        severity_number=int(r["SeverityNumber"]),
        service=r["ServiceName"],
        platform=r["Platform"],
        body=r["Body"],
        attributes=dict(r["LogAttributes"]),
    )


class TelemetryReader:
    """The reads the API and FanzDash make, as named queries on ``queries``."""

    def __init__(self, queries: NamedQueries) -> None:
        self.queries = queries

    async def _traces(self, q: TraceSearch) -> list[TraceSummary]:
        return [_summary(r) for r in await self.queries.query("find_traces", **_trace_params(q))]

    async def search_traces(self, q: TraceSearch) -> list[TraceSummary]:
        """Newest (by each trace's first matching span in its window) or slowest first.

        Newest first reads window after window (``newest_first_slices``); a trace with spans
        on both sides of a window's edge is listed once, where its newest spans are. Each window
        is asked for ``q.limit`` traces, not only the ones still missing: those it holds may be
        traces already found in a newer window, and a smaller limit would cut off newer ones.
        """
        if q.order == "slowest":
            return await self._traces(q)
        found: dict[str, TraceSummary] = {}
        for start, end in newest_first_slices(q.start_ns, q.end_ns):
            for t in await self._traces(replace(q, start_ns=start, end_ns=end)):
                found.setdefault(t.trace_id, t)
            if len(found) >= q.limit:
                break
        return list(found.values())[: q.limit]

    async def spans_of_trace(self, trace_id: str) -> list[Span]:
        """Every span of one trace (at most ``MAX_TRACE_SPANS``), oldest first."""
        return [_span(r) for r in await self.queries.query("trace_spans", trace_id=check_trace_id(trace_id))]

    async def search_logs(self, q: LogSearch) -> list[LogRecord]:
        """Newest first, window after window (``newest_first_slices``) until ``q.limit`` are found."""
        out: list[LogRecord] = []
        for start, end in newest_first_slices(q.start_ns, q.end_ns):
            params = _log_params(replace(q, start_ns=start, end_ns=end, limit=q.limit - len(out)))
            out += [_record(r) for r in await self.queries.query("find_logs", **params)]
            if len(out) >= q.limit:
                break
        return out

    async def tail_logs(self, q: LogSearch, after: LogCursor) -> LogPage:
        """Records after ``after`` up to ``q.end_ns``, oldest first, at most ``q.limit`` (≤ ``MAX_TAIL``).

        In (time, tie-break) order; of the records at the cursor's own (time, tie-break), the
        first ``after.seen`` were given already and are skipped. A record written later with
        an older timestamp than the cursor is not tailed (search finds it): callers end the
        tail's window ``TAIL_SETTLE_NS`` before now (``params.log_tail`` does), so records that
        late by less than that arrive in order.
        """
        if q.limit > MAX_TAIL:
            raise TelemetryQueryError(f"a tail returns at most {MAX_TAIL} records at a time")
        params = {**_log_params(q), "limit": q.limit + after.seen}
        rows = await self.queries.query("tail_logs", **params, after_ns=after.nanos, after_tie=after.tie)
        records = [_record(r) for r in rows]
        given = sum(1 for _ in itertools.takewhile(lambda r: r.key == after.key, records[: after.seen]))
        records = records[given : given + q.limit]
        if not records:
            return LogPage([], after)
        last = records[-1].key
        seen = sum(1 for _ in itertools.takewhile(lambda r: r.key == last, reversed(records)))
        if last == after.key:
            seen += after.seen
        return LogPage(records, LogCursor(*last, seen))
