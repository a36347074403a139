"""Logs page: search (words, severity, service, platform, trace id, time range) with a
live tail, and the tail's fragment the script polls.

The tail is polling with a cursor, not a stream: ``/logs/tail?after=<cursor>&…`` renders
the rows newer than the cursor with the same filters (oldest first, at most 200) and the
next cursor, and the script puts them on top of the table. Without JavaScript the page is
a search that the refresh picker or a reload brings up to date.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...telemetry import params as tp
from ...telemetry.reader import SEVERITIES, TAIL_SETTLE_NS, LogCursor, LogPage, LogRecord, TelemetryQueryError
from .context import DashContext, Section, attempt
from .page_traces import RANGES, form_values, multi, now_ns, source

TAIL_LIMIT = 200
_FILTERS = ("q", "severity", "service", "platform", "trace_id", "span_id")


def register(router: APIRouter, ctx: DashContext) -> None:
    @router.get("/logs", response_class=HTMLResponse, summary="Log search and live tail")
    async def logs(request: Request) -> HTMLResponse:
        problem: str | None = None
        result: Section[list[LogRecord]] = Section()
        now = now_ns(ctx)
        try:
            q = tp.log_search(multi(request), now_ns=now, platforms=ctx.platforms)
        except TelemetryQueryError as exc:
            problem = str(exc)
        else:

            async def read() -> list[LogRecord]:
                return await source(ctx).search_logs(q)

            result = await attempt("logs", read())
        filters = [(k, v) for k in _FILTERS for v in request.query_params.getlist(k)[:16] if v]
        # an empty page tails from where the window settles (records exported late still come)
        cursor = str(LogCursor.newest_of(result.data or ()) or LogCursor(now - TAIL_SETTLE_NS))
        return ctx.render(
            request,
            "logs.html",
            page="logs",
            title="Logs",
            status=400 if problem or result.kind == "rejected" else 200,
            problem=problem,
            result=result,
            values=form_values(request),
            severities=tuple(SEVERITIES),
            ranges=RANGES,
            tail_url=ctx.url("/logs/tail?" + urlencode(filters)) if not problem else "",
            cursor=cursor,
        )

    @router.get("/logs/tail", response_class=HTMLResponse, summary="New log rows after a cursor")
    async def tail(request: Request) -> HTMLResponse:
        params = {**multi(request), "limit": [str(TAIL_LIMIT)]}
        try:
            q, after = tp.log_tail(params, now_ns=now_ns(ctx), platforms=ctx.platforms)
        except TelemetryQueryError as exc:
            return HTMLResponse(f"<p>{_escape(str(exc))}</p>", status_code=400)

        async def read() -> LogPage:
            return await source(ctx).tail_logs(q, after)

        page = await attempt("the log tail", read())
        return ctx.render(
            request,
            "logs_tail.html",
            page="logs",
            title="Log tail",
            status=200 if page.ok else 503,
            page_result=page,
            # Rows arrive oldest first; the table shows newest on top.
            rows=list(reversed(page.data.records)) if page.data else [],
            cursor=str(page.data.cursor if page.data else after),
        )


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
