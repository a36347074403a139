"""``/api/v1/telemetry``: trace search, one trace's spans, log search and a live tail.

Reads go to a ``TelemetryReader`` (named queries to the store process through its client,
or to an embedded store). A bad parameter is a 400 that says what is allowed; a store that cannot
answer is a 503 with ``Retry-After``. Times in answers are nanoseconds (``*_ns``, exact
in Python, not in JavaScript) and ISO 8601 (``time``); cursors are opaque strings.

>>> app.include_router(build_router(lambda: reader, platforms=("fanz-1",), clock=SystemClock()))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request

from ..core.clock import Clock
from . import params as p
from .client import TelemetryStoreUnavailableError
from .queries import QueryParameterError
from .reader import LogRecord, Span, TelemetryQueryError, TelemetryReader, TraceSummary, check_trace_id

logger = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_AFTER = "5"


def iso(nanos: int) -> str:
    """Nanoseconds → ISO 8601 with microseconds, UTC."""
    return datetime.fromtimestamp(nanos / 1e9, UTC).isoformat().replace("+00:00", "Z")


def trace_json(t: TraceSummary) -> dict[str, Any]:
    return {**asdict(t), "time": iso(t.start_ns)}


def span_json(s: Span) -> dict[str, Any]:
    out = asdict(s)
    out["time"] = iso(s.start_ns)
    for event in out["events"]:
        event["time"] = iso(event["time_ns"])
    return out


def log_json(r: LogRecord) -> dict[str, Any]:
    out = asdict(r)
    out.pop("tie")
    return {**out, "time": iso(r.time_ns), "cursor": str(r.cursor)}


def _multi(request: Request) -> dict[str, list[str]]:
    q = request.query_params
    return {key: q.getlist(key) for key in q}


def build_router(
    get_reader: Callable[[], TelemetryReader | None], *, platforms: tuple[str, ...], clock: Clock
) -> APIRouter:
    router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])

    def now_ns() -> int:
        return int(clock.now().timestamp() * 1e9)

    async def read(what: str, call: Callable[[TelemetryReader], Awaitable[T]]) -> T:
        reader = get_reader()
        if reader is None:
            raise HTTPException(
                503, "the trace and log store is not running in this server", headers={"Retry-After": RETRY_AFTER}
            )
        try:
            return await call(reader)
        except QueryParameterError as exc:
            raise HTTPException(400, str(exc)) from None
        except TelemetryStoreUnavailableError as exc:
            raise HTTPException(503, f"{exc}; try again", headers={"Retry-After": RETRY_AFTER}) from None
        except Exception:
            logger.exception("the trace and log store failed reading %s", what)
            raise HTTPException(
                503, f"the trace and log store could not read {what}; try again", headers={"Retry-After": RETRY_AFTER}
            ) from None

    def checked(build: Callable[[], T]) -> T:
        try:
            return build()
        except TelemetryQueryError as exc:
            raise HTTPException(400, str(exc)) from None

    @router.get("/traces", summary="Search traces")
    async def search_traces(request: Request) -> dict[str, Any]:
        """Traces with a span matching every filter: ``service``, ``route``, ``name``, ``platform``
        (repeatable), ``status`` (ok, error, unset), ``min_duration`` (``500ms``), ``attr=key=value``
        (repeatable), ``range`` or ``from``/``to``, ``order`` (newest, slowest), ``limit`` (≤ 1000)."""
        q = checked(lambda: p.trace_search(_multi(request), now_ns=now_ns(), platforms=platforms))
        found = await read("traces", lambda r: r.search_traces(q))
        return {"traces": [trace_json(t) for t in found], "from": iso(q.start_ns), "to": iso(q.end_ns)}

    @router.get("/traces/{trace_id}", summary="One trace: its spans and their events")
    async def trace(trace_id: str) -> dict[str, Any]:
        wanted = checked(lambda: check_trace_id(trace_id))
        spans = await read("the trace", lambda r: r.spans_of_trace(wanted))
        if not spans:
            raise HTTPException(404, f"no trace {wanted} in the store (it may be older than the retention)")
        return {"trace_id": wanted, "spans": [span_json(s) for s in spans]}

    @router.get("/logs", summary="Search logs")
    async def search_logs(request: Request) -> dict[str, Any]:
        """Log records, newest first: ``q`` (words, each matched whole), ``severity`` (this level
        and worse), ``service``, ``platform`` (repeatable), ``trace_id``, ``span_id``, ``range`` or
        ``from``/``to``, ``limit`` (≤ 1000)."""
        q = checked(lambda: p.log_search(_multi(request), now_ns=now_ns(), platforms=platforms))
        found = await read("logs", lambda r: r.search_logs(q))
        return {"logs": [log_json(r) for r in found], "from": iso(q.start_ns), "to": iso(q.end_ns)}

    @router.get("/logs/tail", summary="Logs newer than a cursor (live tail)")
    async def tail_logs(request: Request) -> dict[str, Any]:
        """Records after ``after`` (a ``cursor`` from an earlier answer; default: now), oldest
        first, with the search filters; ``limit`` ≤ 500. Poll again with the answer's ``cursor``.
        The tail runs ``delay`` behind now (default ``5s``, at most ``60s``, ``0`` for none), so
        records exported that much later than newer ones are not skipped; records of one
        nanosecond are each given once, across pages too (the cursor counts them)."""
        q, cursor = checked(lambda: p.log_tail(_multi(request), now_ns=now_ns(), platforms=platforms))
        page = await read("the log tail", lambda r: r.tail_logs(q, cursor))
        return {"logs": [log_json(r) for r in page.records], "cursor": str(page.cursor)}

    return router
