"""Traces pages: search (service, route, span name, platform, status, minimum duration,
attribute, time range) and one trace as a waterfall with each span's attributes, events
and a link to its logs, plus the trace's logs.

Forms are plain GET forms; a span's details are ``<details>`` elements, so the waterfall
works without JavaScript (the script opens the span a link points at, ``#span-<id>``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...telemetry import params as tp
from ...telemetry.reader import (
    MAX_RANGE_NS,
    STATUSES,
    LogRecord,
    LogSearch,
    Span,
    TelemetryQueryError,
    TraceSummary,
    check_trace_id,
)
from .context import DashContext, Section, attempt
from .errors import not_running
from .telemetry_links import logs_url
from .telemetry_source import TelemetrySource
from .waterfall import waterfall

LOG_MARGIN_NS = 5 * 60 * 10**9
RANGES = tuple(tp.RANGES)


def source(ctx: DashContext) -> TelemetrySource:
    found = ctx.sources().telemetry
    if found is None:
        raise not_running(
            "the trace and log store",
            "Traces and logs are not stored by this server: start the stack with `fanzwatch up` "
            "(its telemetry store receives OTLP on /v1/traces and /v1/logs).",
        )
    return found


def multi(request: Request) -> dict[str, list[str]]:
    q = request.query_params
    return {key: q.getlist(key)[:16] for key in q}


def now_ns(ctx: DashContext) -> int:
    return int(ctx.clock.now().timestamp() * 1e9)


def form_values(request: Request) -> dict[str, object]:
    q = request.query_params
    return {
        **{k: q.get(k, "")[:256] for k in q if k not in ("platform", "attr")},
        "platform": [p[:64] for p in q.getlist("platform")[:16]],
        "attr": q.get("attr", "")[:256],
    }


def register(router: APIRouter, ctx: DashContext) -> None:
    @router.get("/traces", response_class=HTMLResponse, summary="Trace search")
    async def traces(request: Request) -> HTMLResponse:
        problem: str | None = None
        result: Section[list[TraceSummary]] = Section()
        try:
            q = tp.trace_search(multi(request), now_ns=now_ns(ctx), platforms=ctx.platforms)
        except TelemetryQueryError as exc:
            problem = str(exc)
        else:

            async def read() -> list[TraceSummary]:
                return await source(ctx).search_traces(q)

            result = await attempt("traces", read())
        return ctx.render(
            request,
            "traces.html",
            page="traces",
            title="Traces",
            status=400 if problem or result.kind == "rejected" else 200,
            problem=problem,
            result=result,
            values=form_values(request),
            statuses=STATUSES,
            ranges=RANGES,
            logs_url=lambda **kw: logs_url(ctx.prefix, **kw),
        )

    @router.get("/traces/{trace_id}", response_class=HTMLResponse, summary="One trace (waterfall)")
    async def trace(request: Request, trace_id: str) -> HTMLResponse:
        try:
            wanted = check_trace_id(trace_id)
        except TelemetryQueryError as exc:
            return ctx.render(
                request,
                "message.html",
                page="traces",
                title="Not a trace id",
                status=400,
                message=str(exc),
                link=(ctx.url("/traces"), "Search traces"),
            )

        async def read() -> list[Span]:
            return await source(ctx).spans_of_trace(wanted)

        spans = await attempt("the trace", read())
        if spans.ok and not spans.data:
            return ctx.render(
                request,
                "message.html",
                page="traces",
                title="No such trace",
                status=404,
                message=f"The store has no trace {wanted}: it may not have arrived yet, or is past the retention.",
                link=(ctx.url("/traces"), "Search traces"),
            )
        drawn = waterfall(spans.data or [])
        logs: Section[list[LogRecord]] = Section()
        if spans.data:
            start = max(0, drawn.start_ns - LOG_MARGIN_NS)
            # A trace longer than a log search may cover (a skewed clock, a tab open for days): its first part.
            search = LogSearch(
                start_ns=start,
                end_ns=min(drawn.start_ns + drawn.duration_ns + LOG_MARGIN_NS, start + MAX_RANGE_NS),
                trace_id=wanted,
                limit=500,
            )

            async def read_logs() -> list[LogRecord]:
                return await source(ctx).search_logs(search)

            logs = await attempt("the trace's logs", read_logs())
        root = drawn.root
        return ctx.render(
            request,
            "trace.html",
            page="traces",
            title=f"Trace {root.name}" if root else "Trace",
            result=spans,
            trace_id=wanted,
            w=drawn,
            logs=logs,
            window=(
                str((drawn.start_ns - LOG_MARGIN_NS) // 10**9),
                str((drawn.start_ns + drawn.duration_ns + LOG_MARGIN_NS) // 10**9 + 1),
            ),
        )
